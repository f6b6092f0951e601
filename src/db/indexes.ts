/** Indexes created at start (idempotent). */
import type { Collections } from "./mongo.ts";

export async function ensureIndexes(c: Collections): Promise<void> {
  await Promise.all([
    c.users.createIndex({ email: 1 }, { unique: true, name: "email_unique" }),
    c.conversations.createIndex({ direct_key: 1 }, { unique: true, name: "direct_key_unique" }),
    c.conversations.createIndex({ participants: 1, last_activity: -1 }, { name: "participant_activity" }),
    c.conversations.createIndex({ last_message_time: -1 }, { name: "last_message_time" }),
    c.messages.createIndex({ conversation_id: 1, seq: -1 }, { name: "conversation_seq" }),
    c.messages.createIndex({ conversation_id: 1, timestamp: -1 }, { name: "conversation_time" }),
  ]);
}
