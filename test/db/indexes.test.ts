/**
 * Indexes at start: the ones queries use exist, and the ones earlier versions
 * created that no query uses (each costs every write) are dropped from an existing database.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { ensureIndexes } from "../../src/db/indexes.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer("indexes");
});
afterAll(() => s.stopAndDrop());

const names = async (col: { indexes(): Promise<{ name?: string }[]> }) => (await col.indexes()).map((i) => i.name).sort();

test("start creates the indexes queries use and drops obsolete ones", async () => {
  const { users, conversations, messages, members, messageTerms } = s.db.collections;
  // A database as earlier versions left it.
  await conversations.createIndex({ direct_key: 1 }, { unique: true, name: "direct_key_unique" });
  await conversations.createIndex({ last_message_time: -1 }, { name: "last_message_time" });
  await conversations.createIndex({ participants: 1, last_activity: -1 }, { name: "participant_activity" });
  await messages.createIndex({ conversation_id: 1, timestamp: -1 }, { name: "conversation_time" });
  await messages.createIndex({ conversation_id: 1, seq: -1 }, { name: "conversation_seq" });

  await ensureIndexes(s.db.collections);
  expect(await names(users)).toEqual(["_id_", "email_unique"]);
  expect(await names(conversations)).toEqual(["_id_"]);
  expect(await names(messages)).toEqual(["_id_", "scalar_conversation_seq", "scalar_webhook_due"]);
  expect(await names(members)).toEqual(["_id_", "scalar_conversation_user", "scalar_user_conversation"]);
  expect(await names(messageTerms)).toEqual(["_id_", "scalar_message_term"]);

  await ensureIndexes(s.db.collections); // idempotent: nothing left to drop is fine
  expect(await names(conversations)).toEqual(["_id_"]);
});
