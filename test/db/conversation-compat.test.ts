/**
 * Documents written by earlier versions (direct conversations only, without
 * conversation_type, message_count or read pointers; messages without deleted
 * or reactions) read and work exactly as before next to the group model.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { ObjectId } from "mongodb";
import { directId, directKey } from "../../src/db/conversations.repo.ts";
import { memberId } from "../../src/db/members.ts";
import { api, login } from "../helpers/api.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer("compat");
});
afterAll(() => s.stopAndDrop());

test("an old direct conversation lists, pages, reads, takes sends and edits, and has a read-state", async () => {
  const [ada, bob] = await Promise.all([login(s, "ada@compat.test", "Ada"), login(s, "bob@compat.test", "Bob")]);
  const pair: [string, string] = [ada.email, bob.email];
  const _id = directId(pair);
  const id = _id.toHexString();
  const at = new Date("2025-01-01T00:00:00Z");
  const { conversations, members, messages } = s.db.collections;
  // Exactly the fields an earlier version wrote (no conversation_type, message_count, pointers, deleted, reactions).
  await conversations.insertOne({
    _id, participants: pair, direct_key: directKey(pair), created_at: at, last_message: "old", last_message_time: at,
    last_message_sender: ada.email, last_activity: at, last_seq: 2, unread: [0, 2], last_read_at: [null, null],
  } as never);
  await members.insertMany(pair.map((user) => ({ _id: memberId(id, user), user, conversation_id: id, joined_at: at })));
  const oldIds = [new ObjectId(), new ObjectId()];
  await messages.insertMany(
    [1, 2].map((seq) => ({
      _id: oldIds[seq - 1]!, conversation_id: id, seq, sender_email: ada.email, sender_name: "Ada", message: seq === 2 ? "old" : "older",
      message_type: "text", timestamp: at, edited: false, edited_at: null, reply_to: null, client_id: null,
    })) as never,
  );

  const list = (await api(s, "GET", "/api/conversations", { token: bob.token })).body;
  expect(list).toEqual([
    {
      id, participants: pair, conversation_type: "direct", created_at: at.toISOString(), last_message: "old",
      last_message_time: at.toISOString(), last_message_sender: ada.email, unread_count: { [ada.email]: 0, [bob.email]: 2 },
    },
  ]);
  const page = (await api(s, "GET", `/api/conversations/${id}/messages`, { token: bob.token }));
  expect(page.headers.get("x-total-count")).toBe("2");
  expect(page.body.map((m: any) => [m.seq, m.deleted, m.reactions])).toEqual([[1, false, {}], [2, false, {}]]);

  const sent = await api(s, "POST", "/api/messages/send", { token: ada.token, body: { conversation_id: id, message: "new" } });
  expect(sent.body.message.seq).toBe(3);
  expect((await api(s, "GET", "/api/conversations", { token: bob.token })).body[0].unread_count[bob.email]).toBe(3);
  const state = (await api(s, "GET", `/api/conversations/${id}/read-state`, { token: ada.token })).body;
  expect(state).toContainEqual({ email: bob.email, last_read_seq: 0, read_at: null });
  const read = await api(s, "POST", `/api/conversations/${id}/mark-read`, { token: bob.token, body: { up_to_seq: 2 } });
  expect(read.body).toMatchObject({ last_read_seq: 2, unread_count: 1 });
  expect((await api(s, "PATCH", `/api/messages/${oldIds[0]!.toHexString()}`, { token: ada.token, body: { message: "edited" } })).body.edited).toBe(true);
  expect((await api(s, "PUT", `/api/messages/${oldIds[1]!.toHexString()}/reactions/${encodeURIComponent(":ok:")}`, { token: bob.token })).body.reactions).toEqual({ ":ok:": [bob.email] });
});
