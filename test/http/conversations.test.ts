import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { api, login, type TestUser } from "../helpers/api.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let s: TestServer;
let ada: TestUser;
let bob: TestUser;
let eve: TestUser;
beforeAll(async () => {
  s = await startTestServer("conversations");
  ada = await login(s, "ada@example.com", "Ada");
  bob = await login(s, "bob@example.com", "Bob");
  eve = await login(s, "eve@example.com", "Eve");
});
afterAll(() => s.stopAndDrop());

const send = (from: TestUser, to: TestUser, message: string, extra: Record<string, unknown> = {}) =>
  api(s, "POST", "/api/messages/send", { token: from.token, body: { to_email: to.email, message, ...extra } });

describe("POST /api/conversations/start", () => {
  test("is idempotent from either side", async () => {
    const a = await api(s, "POST", "/api/conversations/start", { token: ada.token, body: { to_email: bob.email } });
    expect(a.status).toBe(201);
    expect(a.body.participants).toEqual(["ada@example.com", "bob@example.com"]);
    expect(a.body.unread_count).toEqual({ "ada@example.com": 0, "bob@example.com": 0 });
    const again = await api(s, "POST", "/api/conversations/start", { token: ada.token, body: { to_email: "BOB@example.com" } });
    const b = await api(s, "POST", "/api/conversations/start", { token: bob.token, body: { to_email: ada.email } });
    expect(again.status).toBe(200);
    expect(b.status).toBe(200);
    expect(again.body.id).toBe(a.body.id);
    expect(b.body.id).toBe(a.body.id);
  });

  test("concurrent starts from both sides make one conversation", async () => {
    const c = await login(s, "carol@example.com", "Carol");
    const d = await login(s, "dan@example.com", "Dan");
    const rs = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        api(s, "POST", "/api/conversations/start", { token: i % 2 ? c.token : d.token, body: { to_email: i % 2 ? d.email : c.email } }),
      ),
    );
    expect(new Set(rs.map((r) => r.body.id)).size).toBe(1);
    expect(rs.filter((r) => r.status === 201).length).toBe(1);
  });

  test("unknown recipient → 404, self → 400, bad email → 422", async () => {
    expect((await api(s, "POST", "/api/conversations/start", { token: ada.token, body: { to_email: "nobody@example.com" } })).status).toBe(404);
    const self = await api(s, "POST", "/api/conversations/start", { token: ada.token, body: { to_email: ada.email } });
    expect(self.status).toBe(400);
    expect(self.body.error.code).toBe("CANNOT_MESSAGE_SELF");
    expect((await api(s, "POST", "/api/conversations/start", { token: ada.token, body: { to_email: ["x"] } })).status).toBe(422);
  });
});

describe("messages and unread counts", () => {
  test("send, list, unread counts increment and reset", async () => {
    const first = await send(ada, bob, "hello bob");
    expect(first.status).toBe(201);
    expect(first.body.message).toMatchObject({ sender_email: ada.email, sender_name: "Ada", message: "hello bob", message_type: "text", reply_to: null });
    const convId = first.body.message.conversation_id;
    await send(ada, bob, "second");
    await send(bob, ada, "hi ada", { reply_to: first.body.message.id });

    const bobList = await api(s, "GET", "/api/conversations", { token: bob.token });
    const conv = bobList.body.find((c: { id: string }) => c.id === convId);
    expect(conv).toMatchObject({ last_message: "hi ada", last_message_sender: bob.email });
    expect(conv.unread_count).toEqual({ [ada.email]: 1, [bob.email]: 2 });

    const read = await api(s, "POST", `/api/conversations/${convId}/mark-read`, { token: bob.token });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ conversation_id: convId, unread_count: 0 });
    const after = (await api(s, "GET", "/api/conversations", { token: bob.token })).body.find((c: { id: string }) => c.id === convId);
    expect(after.unread_count).toEqual({ [ada.email]: 1, [bob.email]: 0 });
  });

  test("unread count is exact under 200 concurrent sends, and message order follows seq", async () => {
    const x = await login(s, "x@example.com", "X");
    const y = await login(s, "y@example.com", "Y");
    const rs = await Promise.all(Array.from({ length: 200 }, (_, i) => send(x, y, `m${i}`)));
    expect(rs.every((r) => r.status === 201)).toBe(true);
    const convId = rs[0]!.body.message.conversation_id;
    const conv = (await api(s, "GET", "/api/conversations", { token: y.token })).body.find((c: { id: string }) => c.id === convId);
    expect(conv.unread_count[y.email]).toBe(200);
    const seqs = rs.map((r) => r.body.message.seq).sort((a: number, b: number) => a - b);
    expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  test("pagination over 120 messages: skip from the newest, pages oldest first, limit capped", async () => {
    const p = await login(s, "pager@example.com", "P");
    const q = await login(s, "paged@example.com", "Q");
    let convId = "";
    for (let i = 0; i < 120; i++) {
      const r = await send(i % 2 ? q : p, i % 2 ? p : q, `n${i}`);
      convId = r.body.message.conversation_id;
    }
    const page1 = await api(s, "GET", `/api/conversations/${convId}/messages?limit=50`, { token: p.token });
    expect(page1.status).toBe(200);
    expect(page1.body.map((m: { message: string }) => m.message)).toEqual(Array.from({ length: 50 }, (_, i) => `n${70 + i}`));
    expect(page1.headers.get("x-total-count")).toBe("120");
    expect(page1.headers.get("x-has-more")).toBe("true");
    const page3 = await api(s, "GET", `/api/conversations/${convId}/messages?skip=100&limit=50`, { token: q.token });
    expect(page3.body.map((m: { message: string }) => m.message)).toEqual(Array.from({ length: 20 }, (_, i) => `n${i}`));
    expect(page3.headers.get("x-has-more")).toBe("false");
    const all = [...page3.body, ...(await api(s, "GET", `/api/conversations/${convId}/messages?skip=50&limit=50`, { token: p.token })).body, ...page1.body];
    expect(all.map((m: { seq: number }) => m.seq)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect((await api(s, "GET", `/api/conversations/${convId}/messages?limit=101`, { token: p.token })).status).toBe(422);
    expect((await api(s, "GET", `/api/conversations/${convId}/messages?skip=-1`, { token: p.token })).status).toBe(422);
    expect((await api(s, "GET", `/api/conversations/${convId}/messages?limit=abc`, { token: p.token })).status).toBe(422);
  });

  test("client_id makes a re-send idempotent", async () => {
    const a = await send(ada, bob, "once", { client_id: "c-123" });
    const b = await send(ada, bob, "once", { client_id: "c-123" });
    expect(a.status).toBe(201);
    expect(b.status).toBe(200);
    expect(b.body.duplicate).toBe(true);
    expect(b.body.message.id).toBe(a.body.message.id);
    const hist = await api(s, "GET", `/api/conversations/${a.body.message.conversation_id}/messages?limit=100`, { token: bob.token });
    expect(hist.body.filter((m: { client_id: string | null }) => m.client_id === "c-123").length).toBe(1);
  });

  test("bad sends: self 400, unknown recipient 404, too long 422, empty 422, bad type 422, foreign reply_to 404", async () => {
    expect((await send(ada, ada, "me")).status).toBe(400);
    const unknown = await api(s, "POST", "/api/messages/send", { token: ada.token, body: { to_email: "ghost@example.com", message: "boo" } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("USER_NOT_FOUND");
    expect((await send(ada, bob, "x".repeat(10_001))).status).toBe(422);
    expect((await send(ada, bob, "x".repeat(10_000))).status).toBe(201);
    expect((await send(ada, bob, "   ")).status).toBe(422);
    expect((await send(ada, bob, "hi", { message_type: "evil" })).status).toBe(422);
    expect((await send(ada, bob, { $gt: "" } as unknown as string)).status).toBe(422);
    const eveMsg = await send(eve, bob, "from eve");
    const foreign = await send(ada, bob, "reply", { reply_to: eveMsg.body.message.id });
    expect(foreign.status).toBe(404);
    expect((await send(ada, bob, "reply", { reply_to: "not-an-id" })).status).toBe(422);
  });
});

describe("authorization: a third user sees nothing of someone else's conversation", () => {
  test("eve cannot read, mark or find ada and bob's conversation", async () => {
    const m = await send(ada, bob, "private");
    const convId = m.body.message.conversation_id;
    const read = await api(s, "GET", `/api/conversations/${convId}/messages`, { token: eve.token });
    expect(read.status).toBe(404);
    expect(JSON.stringify(read.body)).not.toContain("private");
    expect((await api(s, "POST", `/api/conversations/${convId}/mark-read`, { token: eve.token })).status).toBe(404);
    const list = await api(s, "GET", "/api/conversations", { token: eve.token });
    expect(list.body.some((c: { id: string }) => c.id === convId)).toBe(false);
    const bobView = (await api(s, "GET", "/api/conversations", { token: bob.token })).body.find((c: { id: string }) => c.id === convId);
    expect(bobView.unread_count[bob.email]).toBeGreaterThan(0);
  });

  test("malformed and unknown ids → 404/422 JSON, never 500", async () => {
    expect((await api(s, "GET", "/api/conversations/not-an-id/messages", { token: ada.token })).status).toBe(404);
    expect((await api(s, "GET", "/api/conversations/65f1c0ffee0123456789abcd/messages", { token: ada.token })).status).toBe(404);
    expect((await api(s, "POST", "/api/conversations/%24where/mark-read", { token: ada.token })).status).toBe(404);
  });
});

test("clients cannot forge system messages", async () => {
  const r = await send(ada, bob, "I am the system", { message_type: "system" });
  expect(r.status).toBe(422);
});
