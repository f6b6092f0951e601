/**
 * Indexes created at start (idempotent). Only the indexes a query uses: every
 * index is paid for on each write.
 *   users:                email (unique; lookups go by the _id derived from it)
 *   conversation_members: user + conversation (a user's conversations),
 *                         conversation + user (a group's members and their read pointers)
 *   user_terms:           term (user search by prefix), email (a user's terms)
 *   chat_messages:        conversation + seq (history pages and cursors); webhook_due (the webhook
 *                         dispatcher's due deliveries; only messages with pending deliveries have it)
 *   message_terms:        k (conversation + term) + s (newest-first position): message search
 * Conversations themselves are reached by _id only (derived for direct ones).
 *
 * Names starting with `scalar_` promise that the indexed fields never hold arrays
 * or documents. Our FerretDB build pushes equality, ranges, sort and limit down to
 * SQLite only for such indexes (tools/ferretdb/PATCHES.md); MongoDB ignores names.
 *   token_revocations:    expires_at (TTL: a revocation goes when its token expires; servers
 *                         without TTL indexes, like FerretDB, rely on the purge at start instead)
 */
import type { Collections } from "./mongo.ts";

/** Indexes earlier versions created that no query uses; dropped from existing databases. */
const OBSOLETE: { collection: keyof Collections; name: string }[] = [
  { collection: "conversations", name: "direct_key_unique" },
  { collection: "conversations", name: "last_message_time" },
  { collection: "conversations", name: "participant_activity" },
  { collection: "messages", name: "conversation_time" },
  { collection: "messages", name: "conversation_seq" },
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
    c.members.createIndex({ user: 1, conversation_id: 1 }, { name: "scalar_user_conversation" }),
    c.members.createIndex({ conversation_id: 1, user: 1 }, { name: "scalar_conversation_user" }),
    c.messages.createIndex({ conversation_id: 1, seq: 1 }, { name: "scalar_conversation_seq" }),
    c.messages.createIndex({ webhook_due: 1 }, { name: "scalar_webhook_due" }),
    c.messageTerms.createIndex({ k: 1, s: 1 }, { name: "scalar_message_term" }),
    c.userTerms.createIndex({ term: 1 }, { name: "scalar_term" }),
    c.userTerms.createIndex({ email: 1 }, { name: "scalar_email" }),
    c.revocations.createIndex({ expires_at: 1 }, { name: "expires_ttl", expireAfterSeconds: 0 }).catch(ignoreNotImplemented),
  ]);
  for (const o of OBSOLETE) await dropIfPresent(c[o.collection], o.name);
}
