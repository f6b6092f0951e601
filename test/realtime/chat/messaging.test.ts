import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Socket } from "socket.io-client";
import { api, login, type TestUser } from "../../helpers/api.ts";
import { closeAllClients, connectAs, request, TRANSPORT_MODES, upgraded } from "../../helpers/clients.ts";
import { startTestServer, type TestServer } from "../../helpers/server.ts";
import { collect, waitFor, waitUntil } from "../../helpers/wait.ts";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer("messaging", { RATE_SEND_PER_10S: "1000" });
});
afterEach(closeAllClients);
afterAll(() => s.stopAndDrop());

let n = 0;
async function trio(): Promise<[TestUser, TestUser, TestUser]> {
  n++;
  return Promise.all([login(s, `ada${n}@example.com`, "Ada"), login(s, `bob${n}@example.com`, "Bob"), login(s, `eve${n}@example.com`, "Eve")]);
}

for (const mode of TRANSPORT_MODES) {
  describe(`two users talk, an outsider sees nothing (${mode})`, () => {
    test("first message of a new conversation is delivered live to every socket of both, exactly once", async () => {
      const [ada, bob, eve] = await trio();
      const [adaTab1, adaTab2, bobSock, eveSock] = await Promise.all([
        connectAs(s, ada.token, mode),
        connectAs(s, ada.token, mode),
        connectAs(s, bob.token, mode),
        connectAs(s, eve.token, mode),
      ]);
      const got = new Map<Socket, unknown[]>([adaTab1, adaTab2, bobSock, eveSock].map((c) => [c, collect(c, "new_message")]));
      const notes = new Map<Socket, unknown[]>([adaTab1, adaTab2, bobSock, eveSock].map((c) => [c, collect(c, "message_notification")]));

      const ack = await request(adaTab1, "send_message", { to_email: bob.email, message: "hello bob", message_type: "text", reply_to: null });
      expect(ack.ok).toBe(true);
      expect(ack.message).toMatchObject({ sender_email: ada.email, sender_name: "Ada", message: "hello bob", seq: 1 });
      const convId = ack.message.conversation_id;

      // Eve tries to join: refused, and still receives nothing.
      const join = await request(eveSock, "join_conversation", { conversation_id: convId });
      expect(join).toMatchObject({ ok: false, error: { code: "CONVERSATION_NOT_FOUND" } });
      await request(bobSock, "send_message", { to_email: ada.email, message: "hi ada" });

      await waitUntil(() => [adaTab1, adaTab2, bobSock].every((c) => got.get(c)!.length === 2), 5000, "two new_message on each participant socket");
      // A marker round-trip after everything: if eve were to get anything, it would have arrived by now.
      await request(eveSock, "get_online_users");
      for (const c of [adaTab1, adaTab2, bobSock]) {
        expect(got.get(c)!.map((m: any) => m.message)).toEqual(["hello bob", "hi ada"]);
      }
      expect(got.get(eveSock)).toEqual([]);
      expect(notes.get(eveSock)).toEqual([]);
      expect(notes.get(bobSock)!.map((x: any) => x.message.message)).toEqual(["hello bob"]);
      expect((notes.get(bobSock)![0] as any).unread_count).toBe(1);
      expect(notes.get(adaTab1)!.map((x: any) => x.message.message)).toEqual(["hi ada"]);
      expect(notes.get(adaTab2)!.length).toBe(1);
    });
  });
}

test("a message sent while the client is still on polling and one after the upgrade both arrive once", async () => {
  const [ada, bob] = await trio();
  const bobSock = await connectAs(s, bob.token, "default");
  const seen = collect(bobSock, "new_message");
  const adaSock = await connectAs(s, ada.token, "websocket");
  await request(adaSock, "send_message", { to_email: bob.email, message: "early" });
  await upgraded(bobSock);
  await request(adaSock, "send_message", { to_email: bob.email, message: "late" });
  await waitUntil(() => seen.length >= 2, 5000, "both messages");
  await request(bobSock, "get_online_users");
  expect(seen.map((m: any) => m.message)).toEqual(["early", "late"]);
});

test("REST send delivers in real time exactly like the socket event", async () => {
  const [ada, bob] = await trio();
  const bobSock = await connectAs(s, bob.token, "websocket");
  const adaSock = await connectAs(s, ada.token, "websocket");
  const toBob = waitFor(bobSock, "new_message");
  const note = waitFor(bobSock, "message_notification");
  const toAda = waitFor(adaSock, "new_message");
  const r = await api(s, "POST", "/api/messages/send", { token: ada.token, body: { to_email: bob.email, message: "via rest" } });
  expect(r.status).toBe(201);
  expect((await toBob).id).toBe(r.body.message.id);
  expect((await toAda).id).toBe(r.body.message.id);
  expect((await note).message.id).toBe(r.body.message.id);
});

test("a re-send with the same client_id is stored and delivered once", async () => {
  const [ada, bob] = await trio();
  const bobSock = await connectAs(s, bob.token, "websocket");
  const adaSock = await connectAs(s, ada.token, "websocket");
  const seen = collect(bobSock, "new_message");
  const payload = { to_email: bob.email, message: "only once", client_id: "tab1-42" };
  const first = await request(adaSock, "send_message", payload);
  const second = await request(adaSock, "send_message", payload);
  expect(first).toMatchObject({ ok: true, duplicate: false });
  expect(second).toMatchObject({ ok: true, duplicate: true });
  expect(second.message.id).toBe(first.message.id);
  await waitUntil(() => seen.length >= 1, 5000, "the message");
  await request(bobSock, "get_online_users");
  expect(seen.length).toBe(1);
  const page = await api(s, "GET", `/api/conversations/${first.message.conversation_id}/messages`, { token: bob.token });
  expect(page.body.length).toBe(1);
});

test("unread counts are exact under 200 concurrent socket sends, and every message is delivered once in seq order", async () => {
  const [ada, bob] = await trio();
  const bobSock = await connectAs(s, bob.token, "websocket");
  const adaSock = await connectAs(s, ada.token, "websocket");
  const seen = collect(bobSock, "new_message");
  const acks = await Promise.all(Array.from({ length: 200 }, (_, i) => request(adaSock, "send_message", { to_email: bob.email, message: `m${i}` }, 20_000)));
  expect(acks.every((a) => a.ok)).toBe(true);
  await waitUntil(() => seen.length >= 200, 10_000, "200 deliveries");
  expect(seen.map((m: any) => m.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  const list = await api(s, "GET", "/api/conversations", { token: bob.token });
  expect(list.body[0].unread_count[bob.email]).toBe(200);
  const read = waitFor(bobSock, "marked_as_read");
  const told = waitFor(adaSock, "messages_read");
  expect((await request(bobSock, "mark_as_read", { conversation_id: acks[0].message.conversation_id })).ok).toBe(true);
  expect(await read).toMatchObject({ conversation_id: acks[0].message.conversation_id, unread_count: 0 });
  expect(await told).toMatchObject({ conversation_id: acks[0].message.conversation_id, reader_email: bob.email });
  const after = await api(s, "GET", "/api/conversations", { token: bob.token });
  expect(after.body[0].unread_count[bob.email]).toBe(0);
});

test("reply_to must name a message of the same conversation", async () => {
  const [ada, bob, eve] = await trio();
  const adaSock = await connectAs(s, ada.token, "websocket");
  const eveSock = await connectAs(s, eve.token, "websocket");
  const own = await request(adaSock, "send_message", { to_email: bob.email, message: "root" });
  const ok = await request(adaSock, "send_message", { to_email: bob.email, message: "child", reply_to: own.message.id });
  expect(ok.message.reply_to).toBe(own.message.id);
  const other = await request(eveSock, "send_message", { to_email: bob.email, message: "eve's" });
  const bad = await request(adaSock, "send_message", { to_email: bob.email, message: "x", reply_to: other.message.id });
  expect(bad).toMatchObject({ ok: false, error: { code: "MESSAGE_NOT_FOUND" } });
});

test("concurrent sends are written in batches yet each notification carries its own exact unread count", async () => {
  const [ada, bob] = await trio();
  const bobSock = await connectAs(s, bob.token, "websocket");
  const adaSock = await connectAs(s, ada.token, "websocket");
  const notes = collect<{ unread_count: number; message: { seq: number } }>(bobSock, "message_notification");
  await Promise.all(Array.from({ length: 50 }, (_, i) => request(adaSock, "send_message", { to_email: bob.email, message: `b${i}` })));
  await waitUntil(() => notes.length >= 50, 5000, "50 notifications");
  expect(notes.map((n) => n.unread_count)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  expect(notes.map((n) => n.message.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
});

test("two sends with the same client_id at the same moment store one message", async () => {
  const [ada, bob] = await trio();
  const adaSock = await connectAs(s, ada.token, "websocket");
  const payload = { to_email: bob.email, message: "twin", client_id: "twin-1" };
  const [a, b] = await Promise.all([request(adaSock, "send_message", payload), request(adaSock, "send_message", payload)]);
  expect(a.message.id).toBe(b.message.id);
  expect([a.duplicate, b.duplicate].sort()).toEqual([false, true]);
  const list = await api(s, "GET", "/api/conversations", { token: bob.token });
  expect(list.body[0].unread_count[bob.email]).toBe(1);
});
