/**
 * A client back from offline flushes the emits it buffered: the server takes them at most
 * maxHandlersInFlight at a time (backpressure, not refusal), and every message is stored once.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { io, type Socket } from "socket.io-client";
import { api, login } from "../../helpers/api.ts";
import { startTestServer, type TestServer } from "../../helpers/server.ts";
import { waitFor } from "../../helpers/wait.ts";

const N = 300;
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer("offlineflush", { RATE_SEND_PER_10S: "10000" });
});
const open: Socket[] = [];
afterEach(() => {
  for (const c of open.splice(0)) c.disconnect();
});
afterAll(() => s.stopAndDrop());

test.each(["websocket", "polling"] as const)(
  "%s: 300 send_message emitted while offline are all stored once connected, none refused",
  async (transport) => {
    const [a, b] = await Promise.all([login(s, `fa-${transport}@example.com`, "A"), login(s, `fb-${transport}@example.com`, "B")]);
    const c = io(s.url, { auth: { token: a.token }, transports: [transport], forceNew: true, autoConnect: false });
    open.push(c);
    const acks: Promise<any>[] = [];
    for (let i = 0; i < N; i++) acks.push(c.timeout(20_000).emitWithAck("send_message", { to_email: b.email, message: `m${i}`, client_id: `c${i}` }));
    c.connect();
    await waitFor(c, "connect");
    const results = await Promise.all(acks);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const conversation = results[0].message.conversation_id;
    const page = await api(s, "GET", `/api/conversations/${conversation}/messages?limit=100&skip=0`, { token: a.token });
    expect(page.headers.get("x-total-count")).toBe(String(N));
    const stored = results.map((r) => r.message);
    expect(new Set(stored.map((m) => m.id)).size).toBe(N);
    expect(new Set(stored.map((m) => m.conversation_id))).toEqual(new Set([conversation]));
    expect(stored.map((m) => m.message)).toEqual([...Array(N).keys()].map((i) => `m${i}`));
    // Handlers run in emit order, up to maxHandlersInFlight at once; the order in which concurrent sends get their
    // seq is the message path's business (its reads before the group-commit writer may finish out of order).
    expect(new Set(stored.map((m) => m.seq)).size).toBe(N);
  },
  60_000,
);
