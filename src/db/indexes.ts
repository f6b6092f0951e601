/**
 * Indexes created at start (idempotent). Only the indexes a query uses: every
 * index is paid for on each write, and on FerretDB/SQLite a secondary index is
 * not used for queries at all, only maintained (the conversation update of
 * every send re-evaluates each of them).
 *   users:         email (unique; lookups go by the _id derived from it)
 *   conversations: participant + last_activity (the conversation list); one
 *                  conversation per pair is enforced by its derived _id
 *   chat_messages: conversation + seq (history pages, newest first)
 *   token_revocations: expires_at (TTL: a revocation goes when its token expires; servers
 *                  without TTL indexes, like FerretDB, rely on the purge at start instead)
 */
import type { Collections } from "./mongo.ts";

/** Indexes earlier versions created that no query uses; dropped from existing databases. */
const OBSOLETE: { collection: keyof Collections; name: string }[] = [
  { collection: "conversations", name: "direct_key_unique" },
  { collection: "conversations", name: "last_message_time" },
  { collection: "messages", name: "conversation_time" },
];

async function dropIfPresent(col: { dropIndex(name: string): Promise<unknown> }, name: string): Promise<void> {
  try {
    await col.dropIndex(name);
  } catch (e) {
    const code = (e as { code?: number }).code;
    if (code !== 27 && code !== 26) throw e; // IndexNotFound, NamespaceNotFound
  }
}

function ignoreNotImplemented(e: unknown): void {
  if ((e as { code?: number }).code !== 238 && !/not implemented/i.test(String((e as Error).message))) throw e;
}

export async function ensureIndexes(c: Collections): Promise<void> {
  await Promise.all([
    c.users.createIndex({ email: 1 }, { unique: true, name: "email_unique" }),
    c.conversations.createIndex({ participants: 1, last_activity: -1 }, { name: "participant_activity" }),
    c.messages.createIndex({ conversation_id: 1, seq: -1 }, { name: "conversation_seq" }),
    c.revocations.createIndex({ expires_at: 1 }, { name: "expires_ttl", expireAfterSeconds: 0 }).catch(ignoreNotImplemented),
  ]);
  for (const o of OBSOLETE) await dropIfPresent(c[o.collection], o.name);
}
