/**
 * GET /api/sync and the `sync` socket event: after a cursor, every new message
 * of the caller's conversations arrives (pages bounded by `limit`, split inside
 * a conversation when needed), in seq order per conversation, and nothing of
 * other people's conversations.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { api, login, type TestUser } from "../helpers/api.ts";
import { closeAllClients, connectAs, request } from "../helpers/clients.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let s: TestServer;
let me: TestUser;
let peers: TestUser[];
let outsiders: TestUser[];
beforeAll(async () => {
  s = await startTestServer("sync", { RATE_SEND_PER_10S: "100000" });
  me = await login(s, "me@sync.test", "Me");
  peers = await Promise.all([0, 1, 2].map((i) => login(s, `peer${i}@sync.test`, `Peer ${i}`)));
  outsiders = await Promise.all([0, 1].map((i) => login(s, `out${i}@sync.test`, `Out ${i}`)));
});
afterEach(closeAllClients);
afterAll(() => s.stopAndDrop());

type Page = { conversations: { id: string }[]; messages: { id: string; conversation_id: string; seq: number; message: string }[]; has_more: boolean; cursor: string };
const send = (from: TestUser, to: TestUser, message: string) => api(s, "POST", "/api/messages/send", { token: from.token, body: { to_email: to.email, message } });

async function drain(fetchPage: (since: string) => Promise<Page>, since: string, limit: number) {
  const pages: Page[] = [];
  let cursor = since;
  for (let i = 0; i < 100; i++) {
    const p = await fetchPage(cursor);
    expect(p.messages.length).toBeLessThanOrEqual(limit);
    pages.push(p);
    cursor = p.cursor;
    if (!p.has_more) break;
  }
  expect(pages[pages.length - 1]!.has_more).toBe(false);
  return { pages, cursor, messages: pages.flatMap((p) => p.messages) };
}

test("every message after the cursor arrives, paged and in seq order per conversation; outsiders' never", async () => {
  const start = await api(s, "GET", "/api/sync", { token: me.token });
  expect(start.status).toBe(200);
  expect(start.body).toMatchObject({ conversations: [], messages: [], has_more: false });
  const sent = new Set<string>();
  // 3 conversations, one with more messages than a page holds.
  for (let i = 0; i < 12; i++) sent.add((await send(peers[0]!, me, `p0-${i}`)).body.message.id);
  for (let i = 0; i < 3; i++) sent.add((await send(me, peers[1]!, `p1-${i}`)).body.message.id);
  sent.add((await send(peers[2]!, me, "p2-0")).body.message.id);
  await send(outsiders[0]!, outsiders[1]!, "not yours");

  const limit = 5;
  const { messages } = await drain(
    async (since) => (await api(s, "GET", `/api/sync?since=${since}&limit=${limit}`, { token: me.token })).body,
    start.body.cursor,
    limit,
  );
  const ids = new Set(messages.map((m) => m.id));
  for (const id of sent) expect(ids.has(id)).toBe(true);
  expect(messages.some((m) => m.message === "not yours")).toBe(false);
  // Within a conversation, seqs only go up across the whole drain (after dedupe).
  const seen = new Set<string>();
  const lastSeq = new Map<string, number>();
  for (const m of messages) {
    if (seen.has(m.id)) continue;
    seen.add(m.id);
    expect(m.seq).toBeGreaterThan(lastSeq.get(m.conversation_id) ?? 0);
    lastSeq.set(m.conversation_id, m.seq);
  }
});

test("the socket event answers the same pages in its ack", async () => {
  const sock = await connectAs(s, me.token, "websocket");
  const start = await request(sock, "sync", {});
  expect(start).toMatchObject({ ok: true, messages: [], has_more: false });
  const id = (await send(peers[1]!, me, "over the socket")).body.message.id;
  const { messages } = await drain(async (since) => {
    const r = await request(sock, "sync", { since, limit: 2 });
    expect(r.ok).toBe(true);
    return r;
  }, start.cursor, 2);
  expect(messages.map((m) => m.id)).toContain(id);
});

test("forged or malformed cursors and limits are refused", async () => {
  for (const q of ["since=abc", `since=${Buffer.from('["v1",-5,null,null,null]').toString("base64url")}`, "limit=0", "limit=100000", `since=${"x".repeat(300)}`]) {
    const r = await api(s, "GET", `/api/sync?${q}`, { token: me.token });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe("VALIDATION_FAILED");
  }
  const sock = await connectAs(s, me.token, "websocket");
  expect(await request(sock, "sync", { since: "nope" })).toMatchObject({ ok: false, error: { code: "VALIDATION_FAILED" } });
  expect((await api(s, "GET", "/api/sync")).status).toBe(401);
});
