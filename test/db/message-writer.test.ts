/**
 * The group-commit writer against the real database, below the services:
 * a client_id re-send that another process stored first (its copy is already
 * in the collection when our insert clashes) must not be counted as unread twice.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createConversationsRepo } from "../../src/db/conversations.repo.ts";
import { createMessagesRepo } from "../../src/db/messages.repo.ts";
import { MessageWriter } from "../../src/domain/message-writer.ts";
import { api, login, type TestUser } from "../helpers/api.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let s: TestServer;
let ada: TestUser;
let bob: TestUser;
beforeAll(async () => {
  s = await startTestServer("writer");
  ada = await login(s, "ada@example.com", "Ada");
  bob = await login(s, "bob@example.com", "Bob");
});
afterAll(() => s.stopAndDrop());

const unreadOfBob = async () => (await api(s, "GET", "/api/conversations", { token: bob.token })).body[0].unread_count[bob.email] as number;

test("a re-send already stored by another process is returned, not stored or counted again", async () => {
  const sent = await api(s, "POST", "/api/messages/send", { token: ada.token, body: { to_email: bob.email, message: "first", client_id: "x-1" } });
  expect(sent.status).toBe(201);
  const conversationId: string = sent.body.message.conversation_id;
  expect(await unreadOfBob()).toBe(1);

  // A second writer with its own memory, like another process: it never saw "x-1" and goes straight to the write.
  const other = new MessageWriter(createConversationsRepo(s.db.collections.conversations), createMessagesRepo(s.db.collections.messages), 2);
  const recipientIndex = ([ada.email, bob.email].sort()[0] === bob.email ? 0 : 1) as 0 | 1;
  const doc = (message: string, client_id: string | null) => ({
    conversationId,
    recipientIndex,
    doc: { conversation_id: conversationId, sender_email: ada.email, sender_name: "Ada", message, message_type: "text" as const, timestamp: new Date(), reply_to: null, client_id },
  });
  const [again, fresh] = await Promise.all([other.write(doc("first", "x-1")), other.write(doc("second", null))]);
  expect(again.created).toBe(false);
  expect(again.message.id).toBe(sent.body.message.id);
  expect(fresh.created).toBe(true);
  // The new message's own notification count: the first message and itself, not the clashing re-send.
  expect(fresh.conversation.unread_count[bob.email]).toBe(2);
  expect(await unreadOfBob()).toBe(2);

  const history = await api(s, "GET", `/api/conversations/${conversationId}/messages`, { token: bob.token });
  expect(history.body.map((m: { message: string }) => m.message)).toEqual(["first", "second"]);
});

test("taking back unread never goes below zero when the recipient read meanwhile", async () => {
  const list = await api(s, "GET", "/api/conversations", { token: bob.token });
  const conversationId: string = list.body[0].id;
  expect((await api(s, "POST", `/api/conversations/${conversationId}/mark-read`, { token: bob.token })).status).toBe(200);
  const repo = createConversationsRepo(s.db.collections.conversations);
  const recipientIndex = ([ada.email, bob.email].sort()[0] === bob.email ? 0 : 1) as 0 | 1;
  await repo.uncountUnread(conversationId, recipientIndex, 1);
  expect(await unreadOfBob()).toBe(0);
});

test("two servers on one database: simultaneous re-sends to both store each message once, unread stays exact", async () => {
  const s2 = await startTestServer("writer2", { DATABASE_NAME: s.cfg.DATABASE_NAME });
  try {
    const cara = await login(s, "cara@example.com", "Cara");
    const dan = await login(s2, "dan@example.com", "Dan");
    const send = (srv: TestServer, i: number) =>
      api(srv, "POST", "/api/messages/send", { token: cara.token, body: { to_email: dan.email, message: `m${i}`, client_id: `twin-${i}` } });
    const pairs = await Promise.all(Array.from({ length: 20 }, (_, i) => Promise.all([send(s, i), send(s2, i)])));
    for (const [a, b] of pairs) {
      expect(a.body.message.id).toBe(b.body.message.id);
      expect([a.body.duplicate, b.body.duplicate].sort()).toEqual([false, true]);
    }
    const list = await api(s2, "GET", "/api/conversations", { token: dan.token });
    expect(list.body[0].unread_count[dan.email]).toBe(20);
    const history = await api(s, "GET", `/api/conversations/${list.body[0].id}/messages?limit=100`, { token: dan.token });
    expect(history.body.length).toBe(20);
    expect(new Set(history.body.map((m: { message: string }) => m.message)).size).toBe(20);
  } finally {
    await s2.stop();
  }
});
