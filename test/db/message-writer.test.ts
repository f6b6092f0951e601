/**
 * The group-commit writer against the real database, below the services:
 * a client_id re-send that another process stored first (its copy is already
 * in the collection when our insert clashes) must not be counted as unread twice.
 * (Two real servers racing on one database would test the same thing end to end, but
 * only on MongoDB: FerretDB applies updates as read-modify-write, so two processes
 * updating one conversation at once lose increments there.)
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
  // A second writer in this process plays another server process: the list cache, which relies on being the only
  // writer (a real second process turns it off, see list-cache.test.ts), is off.
  s = await startTestServer("writer", { LIST_CACHE_ITEMS: "0" });
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
  const other = new MessageWriter(createConversationsRepo(s.db.collections.conversations, s.db.collections.members), createMessagesRepo(s.db.collections.messages), 2);
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
  const repo = createConversationsRepo(s.db.collections.conversations, s.db.collections.members);
  const recipientIndex = ([ada.email, bob.email].sort()[0] === bob.email ? 0 : 1) as 0 | 1;
  await repo.uncount(conversationId, recipientIndex, 1);
  expect(await unreadOfBob()).toBe(0);
});
