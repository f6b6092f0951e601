/**
 * Conversations collection. A direct conversation's _id is derived from its
 * sorted participant pair, so find-or-create is a primary-key lookup and two
 * concurrent creators collide on _id (E11000) instead of making two rooms.
 * Per-participant state lives in arrays aligned with `participants`, because
 * emails contain dots and cannot be field names. Membership documents
 * (members.ts) are written before the conversation, so a conversation is never
 * missing from its members' lists.
 */
import type { Collection } from "mongodb";
import type { ConversationsRepo } from "../domain/ports.ts";
import { byActivity } from "../domain/conversation-order.ts";
import type { Conversation } from "../domain/types.ts";
import { derivedId, isDuplicateKey, parseId } from "./ids.ts";
import { addMembers, conversationIdsOf } from "./members.ts";
import type { ConversationDoc, MemberDoc } from "./mongo.ts";

export const directKey = (pair: [string, string]) => `${pair[0]}\n${pair[1]}`;
export const directId = (pair: [string, string]) => derivedId("direct", directKey(pair));

export function toConversation(d: ConversationDoc): Conversation {
  const [a, b] = d.participants;
  return {
    id: d._id.toHexString(),
    participants: [a, b],
    conversation_type: "direct",
    created_at: d.created_at,
    last_message: d.last_message ?? null,
    last_message_time: d.last_message_time ?? null,
    last_message_sender: d.last_message_sender ?? null,
    last_activity: d.last_activity,
    last_seq: d.last_seq,
    // Data of earlier versions has no message_count: last_seq is the count unless seqs were left unused.
    message_count: d.message_count ?? d.last_seq,
    unread_count: { [a]: d.unread?.[0] ?? 0, [b]: d.unread?.[1] ?? 0 },
  };
}

export function createConversationsRepo(col: Collection<ConversationDoc>, members: Collection<MemberDoc>): ConversationsRepo {
  const findDirect = async (pair: [string, string]) => {
    const d = await col.findOne({ _id: directId(pair) });
    return d ? toConversation(d) : null;
  };
  return {
    findDirect,
    async findOrCreateDirect(pair, now) {
      const existing = await findDirect(pair);
      if (existing) return { conversation: existing, created: false };
      const doc: ConversationDoc = {
        _id: directId(pair),
        participants: pair,
        direct_key: directKey(pair),
        conversation_type: "direct",
        created_at: now,
        last_message: null,
        last_message_time: null,
        last_message_sender: null,
        last_activity: now,
        last_seq: 0,
        message_count: 0,
        unread: [0, 0],
        last_read_at: [null, null],
      };
      await addMembers(members, doc._id.toHexString(), pair, now);
      try {
        await col.insertOne(doc);
        return { conversation: toConversation(doc), created: true };
      } catch (e) {
        if (!isDuplicateKey(e)) throw e;
        const winner = await findDirect(pair);
        if (!winner) throw e;
        return { conversation: winner, created: false };
      }
    },
    async findById(id) {
      const _id = parseId(id);
      if (!_id) return null;
      const d = await col.findOne({ _id });
      return d ? toConversation(d) : null;
    },
    async listForUser(email) {
      const ids = (await conversationIdsOf(members, email)).flatMap((id) => parseId(id) ?? []);
      if (ids.length === 0) return [];
      // One batch: past 101 conversations the driver's default first batch would cost a getMore round trip.
      const docs = await col.find({ _id: { $in: ids } }, { batchSize: ids.length }).toArray();
      return docs.map(toConversation).sort(byActivity);
    },
    async recordMessages(id, { count, unreadIncrements, preview, sender, at }) {
      const _id = parseId(id);
      if (!_id) throw new Error(`recordMessages: bad id ${id}`);
      const d = await col.findOneAndUpdate(
        { _id },
        {
          $inc: { last_seq: count, message_count: count, "unread.0": unreadIncrements[0], "unread.1": unreadIncrements[1] },
          $set: { last_message: preview, last_message_time: at, last_message_sender: sender, last_activity: at },
        },
        { returnDocument: "after" },
      );
      if (!d) throw new Error(`recordMessages: conversation ${id} vanished`);
      return { conversation: toConversation(d), lastSeq: d.last_seq };
    },
    async uncount(id, participantIndex, n) {
      const _id = parseId(id);
      if (!_id || n <= 0) return;
      const field = `unread.${participantIndex}`;
      // Atomic either way: subtract when the count is still at least n, else (read meanwhile) clamp to zero.
      const r = await col.updateOne({ _id, [field]: { $gte: n } }, { $inc: { [field]: -n, message_count: -n } });
      if (r.matchedCount === 0) await col.updateOne({ _id, [field]: { $lt: n } }, { $set: { [field]: 0 }, $inc: { message_count: -n } });
    },
    async markRead(id, participantIndex, at) {
      const _id = parseId(id);
      if (!_id) return null;
      const d = await col.findOneAndUpdate(
        { _id },
        { $set: { [`unread.${participantIndex}`]: 0, [`last_read_at.${participantIndex}`]: at } },
        { returnDocument: "after" },
      );
      return d ? toConversation(d) : null;
    },
  };
}
