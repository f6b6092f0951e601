/**
 * Micro-measure of what issue #9 adds per event and per idle socket (seconds, no server):
 *   - the per-user budget check on every client event (local fixed-window limiter);
 *   - the session-expiry wheel entry of an idle socket (heap bytes per socket).
 * `bun bench/micro-auth.ts`
 */
import { createEventBudgets } from "../src/realtime/rate-limiter.ts";
import { SessionExpiry, type ExpiringSession } from "../src/realtime/session-expiry.ts";

const budgets = createEventBudgets({ send: 1e9, typing: 1e9, read: 1e9, join: 1e9, presence: 1e9, refresh: 1e9, sync: 1e9 });
const users = Array.from({ length: 1000 }, (_, i) => `user${i}@example.com`);
const N = 2_000_000;
for (let i = 0; i < 100_000; i++) budgets.take("send_message", users[i % 1000]!);
let t = performance.now();
for (let i = 0; i < N; i++) budgets.take("send_message", users[i % 1000]!);
const nsPerTake = ((performance.now() - t) * 1e6) / N;

// Per idle socket: the session fields the gateway keeps plus its place in the wheel.
interface Session extends ExpiringSession {
  email: string;
  name: string;
  jti: string;
  socket: object;
}
const M = 100_000;
const wheel = new SessionExpiry<Session>(60_000, { warn() {}, expire() {} });
const sockets = Array.from({ length: M }, () => ({}));
const emails = Array.from({ length: M }, (_, i) => `u${i}@example.com`);
const jtis = Array.from({ length: M }, () => crypto.randomUUID());
Bun.gc(true);
const before = process.memoryUsage().heapUsed;
const sessions: Session[] = [];
const now = Date.now();
for (let i = 0; i < M; i++) {
  // Spread over an hour of expiries, as real sessions are.
  const s: Session = { email: emails[i]!, name: "N", jti: jtis[i]!, expiresAt: now + 120_000 + (i % 3600) * 1000, warned: false, bucket: 0, socket: sockets[i]! };
  wheel.track(s);
  sessions.push(s);
}
Bun.gc(true);
const bytesPerSession = (process.memoryUsage().heapUsed - before) / M;
t = performance.now();
for (const s of sessions) wheel.track(s); // a refresh moves a session to another bucket
const nsPerTrack = ((performance.now() - t) * 1e6) / M;
wheel.close();

console.log(JSON.stringify({ ns_per_budget_check: +nsPerTake.toFixed(1), heap_bytes_per_idle_session: Math.round(bytesPerSession), ns_per_refresh_reschedule: +nsPerTrack.toFixed(1) }));
