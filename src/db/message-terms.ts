/**
 * The message search index: one document per (message, term) in `message_terms`
 * (terms from domain/message-terms.ts), `k` = conversation id + U+0001 + term,
 * `s` = the message's newest-first position (13-digit ms timestamp ":" message
 * id, so strings sort by time, then id). The index `scalar_message_term {k, s}`
 * turns a search into an index range read newest first ({k} or {k: {$in}} with
 * s < cursor, sorted by s, limited): pushed down on FerretDB, and the same
 * index on a real mongod (no $text needed, same results on both). _ids are
 * derived from (message, term), time-ordered (see termId), so re-indexing is
 * idempotent and an edit or a delete removes exactly the message's terms by _id.
 */
import type { Collection, ObjectId } from "mongodb";
import type { MessageTermsRepo } from "../domain/message-search.ts";
import { termsOf } from "../domain/message-terms.ts";
import type { Message } from "../domain/types.ts";
import { derivedId, duplicatePositions, parseId, timeOrderedDerivedId } from "./ids.ts";
import { membershipsOf } from "./members.ts";
import { toMessage } from "./messages.repo.ts";
import type { Collections, MemberDoc, MessageDoc } from "./mongo.ts";
import { ONE_BATCH } from "./reads.ts";

export interface MessageTermDoc {
  _id: ObjectId;
  k: string;
  s: string;
}

/**
 * A term document's _id: time-ordered (the message's second), then a hash of (message, term). New terms go to the
 * end of the _id index instead of random pages of it: at 15 million term documents those random page writes made
 * sends I/O-bound on FerretDB (its CPU mostly in write syscalls). Still derived from the message, so re-indexing
 * collides and an edit or a delete finds them.
 */
const termId = (m: Pick<Message, "id" | "timestamp">, term: string) => timeOrderedDerivedId(m.timestamp, "message_term", m.id, term);
/** The _id of a term written before term ids were time-ordered: edits and deletes remove those too. */
const legacyTermId = (messageId: string, term: string) => derivedId("message_term", messageId, term);
/** Both ids a term of the message may have, for deletes. */
const termIdsOf = (m: Pick<Message, "id" | "timestamp">, terms: string[]) => terms.flatMap((t) => [termId(m, t), legacyTermId(m.id, t)]);
const key = (conversationId: string, term: string) => `${conversationId}\u0001${term}`;
const position = (m: Pick<Message, "id" | "timestamp">) => `${String(m.timestamp.getTime()).padStart(13, "0")}:${m.id}`;

const docsOf = (m: Message, terms: string[]): MessageTermDoc[] =>
  terms.map((t) => ({ _id: termId(m, t), k: key(m.conversation_id, t), s: position(m) }));

/** The term documents of a message, as the server writes them (also used by the data benchmark's seed). */
export const termDocsOf = (m: Message): MessageTermDoc[] => docsOf(m, termsOf(m.message));

async function insertTerms(col: Collection<MessageTermDoc>, docs: MessageTermDoc[]): Promise<void> {
  if (docs.length === 0) return;
  try {
    await col.insertMany(docs, { ordered: false });
  } catch (e) {
    if (!duplicatePositions(e)) throw e;
  }
}

/** Indexes new messages (called right after they are stored); one insert for all their terms. */
export function indexMessages(col: Collection<MessageTermDoc>, messages: Message[]): Promise<void> {
  return insertTerms(col, messages.flatMap(termDocsOf));
}

export function createMessageTermsRepo(
  col: Collection<MessageTermDoc>,
  messages: Collection<MessageDoc>,
  members: Collection<MemberDoc>,
): MessageTermsRepo {
  return {
    async find(conversationIds, term, before, limit) {
      const keys = conversationIds.map((c) => key(c, term));
      const filter = {
        k: keys.length === 1 ? keys[0]! : { $in: keys },
        ...(before ? { s: { $lt: before } } : {}),
      };
      const docs = await col.find(filter, { projection: { s: 1 }, ...ONE_BATCH }).sort({ s: -1 }).limit(limit).toArray();
      return docs.map((d) => ({ messageId: d.s.slice(14), position: d.s }));
    },
    async messages(ids) {
      const oids = ids.flatMap((id) => parseId(id) ?? []);
      if (oids.length === 0) return [];
      return (await messages.find({ _id: { $in: oids } }, ONE_BATCH).toArray()).map(toMessage);
    },
    async replace(before, after) {
      const old = new Set(termsOf(before.message));
      const now = new Set(termsOf(after.message));
      const gone = [...old].filter((t) => !now.has(t));
      if (gone.length > 0) await col.deleteMany({ _id: { $in: termIdsOf(before, gone) } });
      await insertTerms(col, docsOf(after, [...now].filter((t) => !old.has(t))));
    },
    async remove(message) {
      const terms = termsOf(message.message);
      if (terms.length > 0) await col.deleteMany({ _id: { $in: termIdsOf(message, terms) } });
    },
    conversationIdsOf: async (email) => (await membershipsOf(members, email)).map((m) => m.conversation_id),
  };
}

const MIGRATION = "message_terms_v1";
const BACKFILL_BATCH = 500;

/** Databases from versions before message search: indexes every message once (idempotent, so an interrupted run is redone). */
export async function backfillMessageTerms(c: Collections): Promise<number> {
  if (await c.meta.findOne({ _id: MIGRATION })) return 0;
  let n = 0;
  let batch: Message[] = [];
  for await (const d of c.messages.find({})) {
    batch.push(toMessage(d));
    if (batch.length >= BACKFILL_BATCH) {
      await indexMessages(c.messageTerms, batch);
      n += batch.length;
      batch = [];
    }
  }
  await indexMessages(c.messageTerms, batch);
  n += batch.length;
  await c.meta.updateOne({ _id: MIGRATION }, { $set: { done_at: new Date() } }, { upsert: true });
  return n;
}
