/**
 * Conversation membership documents: (conversation, user) pairs with a derived
 * _id, so adding a member twice collides instead of duplicating, and a user's
 * conversations are one query on a scalar index (see indexes.ts).
 */
import type { Collection } from "mongodb";
import { derivedId, duplicatePositions } from "./ids.ts";
import type { Collections, MemberDoc } from "./mongo.ts";

export const memberId = (conversationId: string, user: string) => derivedId("member", conversationId, user);

const MIGRATION = "members_v1";
const BACKFILL_BATCH = 1000;

/** Adds the users as members; members already present are left as they are. */
export async function addMembers(col: Collection<MemberDoc>, conversationId: string, users: string[], at: Date): Promise<void> {
  const docs = users.map((user) => ({ _id: memberId(conversationId, user), user, conversation_id: conversationId, joined_at: at }));
  await insertIgnoringDuplicates(col, docs);
}

async function insertIgnoringDuplicates(col: Collection<MemberDoc>, docs: MemberDoc[]): Promise<void> {
  try {
    await col.insertMany(docs, { ordered: false });
  } catch (e) {
    if (!duplicatePositions(e)) throw e;
  }
}

export async function conversationIdsOf(col: Collection<MemberDoc>, user: string): Promise<string[]> {
  const docs = await col.find({ user }, { projection: { conversation_id: 1 } }).toArray();
  return docs.map((d) => d.conversation_id);
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
