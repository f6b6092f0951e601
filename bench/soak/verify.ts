/**
 * The soak's verdict from what the clients kept and what the database holds (REST history, paged with
 * `after=<seq>` cursors): missing, unstored, duplicates, and the reconnect figures.
 */
import type { SoakClient } from "./client.ts";

export interface SoakResult {
  seconds: number;
  users: number;
  websocketOnly: number;
  acked: number;
  presentAtRecipient: number;
  missing: number;
  /** Acked messages not delivered live, by recovery or by a reconnect's sync (only the final sync brought them). */
  missingBeforeFinalSync: number;
  unstored: number;
  /** Kept messages (deduped by id) of one sender with the same client_id at one client: a message shown twice. */
  duplicatesAfterDedupe: number;
  /** Stored messages of one sender with the same client_id (a re-send stored twice). */
  storedTwice: number;
  /** Stored messages whose seq is not their position in the history (1, 2, 3, …): a gap or a repeat. */
  seqGaps: number;
  /** The same id delivered twice as a `new_message` event to one client. */
  rawDuplicates: number;
  syncOverlap: number;
  reconnects: number;
  recovered: number;
  shortDrops: number;
  shortRecovered: number;
  /** Short drops that were not caused by the server restart (recovery state does not survive a process). */
  shortDropsNoRestart: number;
  shortRecoveredNoRestart: number;
  serverRestartReconnects: number;
  serverRestartRecovered: number;
  catchUpRecoveredMs: { p50: number; p99: number; n: number };
  catchUpSyncMs: { p50: number; p99: number; n: number };
  dropToCaughtUpMs: { p50: number; p99: number; n: number };
  notCaughtUp: number;
  stuckClients: number;
  unrecoveredShort: string[];
  ioServerDisconnects: number;
  sendAttempts: number;
  sendErrors: Record<string, number>;
  syncErrors: Record<string, number>;
  serverErrorLines: number;
  serverErrorSamples: string[];
  serverDownMs: number;
  dbRestarts: number;
}

const SHORT_MS = 5000;

const pct = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]! : Number.NaN);
  return { p50: at(0.5), p99: at(0.99), n: s.length };
};

/** Every stored message of a conversation, oldest first, through REST history with `after` cursors. */
export async function storedMessages(url: string, token: string, conversationId: string) {
  const all: { id: string; sender_email: string; client_id: string | null; seq: number }[] = [];
  let after = 0;
  for (;;) {
    const res = await fetch(`${url}/api/conversations/${conversationId}/messages?after=${after}&limit=100`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`history ${conversationId}: ${res.status} ${await res.text()}`);
    const page = (await res.json()) as typeof all;
    all.push(...page);
    if (res.headers.get("x-has-more") !== "true" || page.length === 0) return all;
    after = page.at(-1)!.seq;
  }
}

/**
 * `restart`: when the server was down (SIGTERM → ready again). A reconnect whose gap overlaps it is the restart's,
 * whatever closed the transport first: a session cannot be recovered from a process that is gone.
 */
export function reconnectFigures(clients: SoakClient[], restart: { from: number; to: number }, t0: number) {
  const all = clients.flatMap((c) => c.reconnects).filter((r) => r.connectedAt !== undefined);
  for (const r of all) if (r.disconnectedAt <= restart.to && r.connectedAt! >= restart.from) r.cause = "server_restart";
  const short = all.filter((r) => r.connectedAt! - r.disconnectedAt < SHORT_MS);
  const shortNoRestart = short.filter((r) => r.cause !== "server_restart");
  const afterRestart = all.filter((r) => r.cause === "server_restart");
  const done = all.filter((r) => r.caughtUpAt !== undefined);
  return {
    reconnects: all.length,
    recovered: all.filter((r) => r.recovered).length,
    shortDrops: short.length,
    shortRecovered: short.filter((r) => r.recovered).length,
    shortDropsNoRestart: shortNoRestart.length,
    shortRecoveredNoRestart: shortNoRestart.filter((r) => r.recovered).length,
    serverRestartReconnects: afterRestart.length,
    serverRestartRecovered: afterRestart.filter((r) => r.recovered).length,
    catchUpRecoveredMs: pct(done.filter((r) => r.recovered && r.syncPages === 0).map((r) => r.caughtUpAt! - r.connectedAt!)),
    catchUpSyncMs: pct(done.filter((r) => r.syncPages > 0).map((r) => r.caughtUpAt! - r.connectedAt!)),
    dropToCaughtUpMs: pct(done.map((r) => r.caughtUpAt! - r.disconnectedAt)),
    // A catch-up a later drop cut short is finished by a later reconnect, which is counted there.
    /** Short drops not recovered, outside the restart: what they were, for the report. */
    unrecoveredShort: shortNoRestart
      .filter((r) => !r.recovered)
      .map((r) => `${r.reason} at ${((r.disconnectedAt - t0) / 1000).toFixed(1)} s, back after ${r.connectedAt! - r.disconnectedAt} ms (${r.cause})`),
    notCaughtUp: all.filter((r) => r.caughtUpAt === undefined && r === clientsLast(clients, r)).length,
  };
}

const clientsLast = (clients: SoakClient[], r: SoakClient["reconnects"][number]) => clients.find((c) => c.reconnects.includes(r))?.reconnects.at(-1);

export async function verify(url: string, clients: SoakClient[], tokens: Map<string, string>) {
  const byEmail = new Map(clients.map((c) => [c.email, c]));
  let acked = 0, present = 0, missing = 0, missingBeforeFinal = 0, unstored = 0, storedTwice = 0, rawDuplicates = 0;
  const conversations = new Map<string, string>();
  for (const c of clients) for (const s of c.sent) conversations.set(s.conversationId, c.email);
  const stored = new Set<string>();
  let seqGaps = 0;
  for (const [id, email] of conversations) {
    const msgs = await storedMessages(url, tokens.get(email)!, id);
    const seen = new Set<string>();
    for (const [i, m] of msgs.entries()) {
      if (m.seq !== i + 1) seqGaps++;
      stored.add(m.id);
      const key = `${m.sender_email}\0${m.client_id}`;
      if (m.client_id && seen.has(key)) storedTwice++;
      seen.add(key);
    }
  }
  for (const c of clients) {
    const to = byEmail.get(c.partner)!;
    for (const s of c.sent) {
      acked++;
      if (to.received.has(s.id)) present++;
      else missing++;
      if (!to.deliveredBeforeFinal.has(s.id)) missingBeforeFinal++;
      if (!stored.has(s.id)) unstored++;
    }
    for (const n of c.eventCounts.values()) if (n > 1) rawDuplicates += n - 1;
  }
  // Deduped by id, a message could still show twice if a re-send had been stored under a second id.
  let duplicatesAfterDedupe = 0;
  for (const c of clients) {
    const keys = new Set<string>();
    for (const m of c.received.values()) {
      const key = `${m.sender_email}\0${m.client_id}`;
      if (m.client_id && keys.has(key)) duplicatesAfterDedupe++;
      keys.add(key);
    }
  }
  return { acked, seqGaps, presentAtRecipient: present, missing, missingBeforeFinalSync: missingBeforeFinal, unstored, storedTwice, rawDuplicates, duplicatesAfterDedupe };
}
