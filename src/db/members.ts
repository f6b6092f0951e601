/**
 * Conversation membership documents: (conversation, user) pairs with a derived
 * _id, so adding a member twice collides instead of duplicating, and a user's
 * conversations are one query on a scalar index (see indexes.ts).
 */
import type { Collection } from "mongodb";
import type { MemberState } from "../domain/types.ts";
import { derivedId, duplicatePositions } from "./ids.ts";
import type { Collections, MemberDoc } from "./mongo.ts";
import { ONE_BATCH } from "./reads.ts";

export const memberId = (conversationId: string, user: string) => derivedId("member", conversationId, user);

const MIGRATION = "members_v1";
const BACKFILL_BATCH = 1000;

/**
 * Adds the users as members; members already present are left as they are. `lastReadSeq`: the new
 * members' read pointer (group members start with nothing unread; direct ones keep the unread array).
 */
export async function addMembers(col: Collection<MemberDoc>, conversationId: string, users: string[], at: Date, lastReadSeq?: number): Promise<void> {
  const pointer = lastReadSeq === undefined ? {} : { last_read_seq: lastReadSeq, read_at: null, own_since_read: 0 };
  const docs = users.map((user) => ({ _id: memberId(conversationId, user), user, conversation_id: conversationId, joined_at: at, ...pointer }));
  await insertIgnoringDuplicates(col, docs);
}

export const toMemberState = (d: MemberDoc): MemberState => ({
  user: d.user,
  joined_at: d.joined_at,
  last_read_seq: d.last_read_seq ?? 0,
  read_at: d.read_at ?? null,
  own_since_read: d.own_since_read ?? 0,
});

/** Every member of a conversation (the scalar_conversation_user index). */
export async function membersOf(col: Collection<MemberDoc>, conversationId: string): Promise<MemberState[]> {
  return (await col.find({ conversation_id: conversationId }, ONE_BATCH).toArray()).map(toMemberState);
}

async function insertIgnoringDuplicates(col: Collection<MemberDoc>, docs: MemberDoc[]): Promise<void> {
  try {
    await col.insertMany(docs, { ordered: false });
  } catch (e) {
    if (!duplicatePositions(e)) throw e;
  }
}

/** The user's membership documents (their conversations and read pointers). */
export async function membershipsOf(col: Collection<MemberDoc>, user: string): Promise<MemberDoc[]> {
  return col.find({ user }, ONE_BATCH).toArray();
}

/**
 * Databases written by versions before membership documents: creates them once from the
 * conversations' participants (idempotent, so an interrupted run is simply done again).
 */
export async function backfillMembers(c: Collections): Promise<number> {
  if (await c.meta.findOne({ _id: MIGRATION })) return 0;
  let added = 0;
  let batch: MemberDoc[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await insertIgnoringDuplicates(c.members, batch);
    added += batch.length;
    batch = [];
  };
  for await (const conv of c.conversations.find({}, { projection: { participants: 1, created_at: 1 } })) {
    const id = conv._id.toHexString();
    for (const user of conv.participants) batch.push({ _id: memberId(id, user), user, conversation_id: id, joined_at: conv.created_at });
    if (batch.length >= BACKFILL_BATCH) await flush();
  }
  await flush();
  await c.meta.updateOne({ _id: MIGRATION }, { $set: { done_at: new Date() } }, { upsert: true });
  return added;
}
