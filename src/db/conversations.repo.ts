/**
 * Conversations collection. A direct conversation's _id is derived from its
 * sorted participant pair, so find-or-create is a primary-key lookup and two
 * concurrent creators collide on _id (E11000) instead of making two rooms.
 * Direct per-participant state lives in arrays aligned with `participants`,
 * because emails contain dots and cannot be field names. A group keeps its
 * members in join order with `roles` aligned to them; its unread counts come
 * from the members' read pointers (member docs), so a send never writes per
 * member. Membership documents (members.ts) are written before the
 * conversation, so a conversation is never missing from its members' lists.
 */
import type { Collection } from "mongodb";
import type { ConversationsRepo } from "../domain/ports.ts";
import { assembleList } from "../domain/conversation-list.ts";
import type { Conversation, Membership, MemberState, Role } from "../domain/types.ts";
import { derivedId, isDuplicateKey, parseId } from "./ids.ts";
import { addMembers, memberId, membershipsOf, membersOf, toMemberState } from "./members.ts";
import type { ConversationDoc, MemberDoc } from "./mongo.ts";
import { ONE_BATCH } from "./reads.ts";
import { groupUnread } from "../domain/group-read-states.ts";

export const directKey = (pair: [string, string]) => `${pair[0]}\n${pair[1]}`;
export const directId = (pair: [string, string]) => derivedId("direct", directKey(pair));

export function toConversation(d: ConversationDoc, reader?: MemberState | null): Conversation {
  const common = {
    id: d._id.toHexString(),
    created_at: d.created_at,
    last_message: d.last_message ?? null,
    last_message_time: d.last_message_time ?? null,
    last_message_sender: d.last_message_sender ?? null,
    last_activity: d.last_activity,
    last_seq: d.last_seq,
    // Data of earlier versions has no message_count: last_seq is the count unless seqs were left unused.
    message_count: d.message_count ?? d.last_seq,
    version: d.version ?? 0,
  };
  if (d.conversation_type === "group") {
    const roles: Record<string, Role> = {};
    d.participants.forEach((p, i) => (roles[p] = d.roles?.[i] ?? "member"));
    return {
      ...common,
      participants: [...d.participants],
      conversation_type: "group",
      title: d.title ?? "",
      roles,
      closed: d.closed === true,
      unread_count: reader ? { [reader.user]: groupUnread(d.last_seq, reader) } : {},
    };
  }
  // Earlier versions stored only direct conversations, without conversation_type on some documents.
  const [a, b] = d.participants as [string, string];
  return {
    ...common,
    participants: [a, b],
    conversation_type: "direct",
    title: null,
    roles: null,
    closed: false,
    unread_count: { [a]: d.unread?.[0] ?? 0, [b]: d.unread?.[1] ?? 0 },
  };
}

/** The activity fields of a conversation nobody has written in yet. */
const noActivityYet = (now: Date) => ({
  created_at: now,
  last_message: null,
  last_message_time: null,
  last_message_sender: null,
  last_activity: now,
  last_seq: 0,
  message_count: 0,
});

export function createConversationsRepo(col: Collection<ConversationDoc>, members: Collection<MemberDoc>): ConversationsRepo {
  const findDirect = async (pair: [string, string]) => {
    const d = await col.findOne({ _id: directId(pair) });
    return d ? toConversation(d) : null;
  };
  const idOf = (id: string) => {
    const _id = parseId(id);
    if (!_id) throw new Error(`bad conversation id ${id}`);
    return _id;
  };
  const membershipsOfUser = async (email: string): Promise<Membership[]> =>
    (await membershipsOf(members, email)).map((m) => ({ conversation_id: m.conversation_id, ...toMemberState(m) }));
  const findManyById = async (ids: string[]): Promise<Conversation[]> => {
    const _ids = ids.flatMap((id) => parseId(id) ?? []);
    if (_ids.length === 0) return [];
    return (await col.find({ _id: { $in: _ids } }, ONE_BATCH).toArray()).map((d) => toConversation(d));
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
        ...noActivityYet(now),
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
    async createGroup({ title, participants, roles, now }) {
      const doc: ConversationDoc = {
        _id: derivedId("group", crypto.randomUUID()),
        participants,
        conversation_type: "group",
        title,
        roles,
        version: 0,
        ...noActivityYet(now),
      };
      await addMembers(members, doc._id.toHexString(), participants, now, 0);
      await col.insertOne(doc);
      return toConversation(doc);
    },
    async updateGroup(id, version, changes) {
      const _id = idOf(id);
      const d = await col.findOneAndUpdate(
        { _id, conversation_type: "group", version },
        { $set: { ...changes, version: version + 1 } },
        { returnDocument: "after" },
      );
      return d ? toConversation(d) : null;
    },
    async addMemberDocs(id, users, now, lastReadSeq) {
      await addMembers(members, id, users, now, lastReadSeq);
    },
    async removeMemberDocs(id, users) {
      if (users.length > 0) await members.deleteMany({ _id: { $in: users.map((u) => memberId(id, u)) } });
    },
    async memberState(id, user) {
      const d = await members.findOne({ _id: memberId(id, user) });
      return d ? toMemberState(d) : null;
    },
    membersOf: (id) => membersOf(members, id),
    async addOwn(id, user, n) {
      if (n !== 0) await members.updateOne({ _id: memberId(id, user) }, { $inc: { own_since_read: n } });
    },
    async setReadPointer(id, user, { last_read_seq, own_since_read, read_at }) {
      const r = await members.updateOne(
        { _id: memberId(id, user), $or: [{ last_read_seq: { $lt: last_read_seq } }, { last_read_seq: { $exists: false } }] },
        { $set: { last_read_seq, own_since_read, read_at } },
      );
      return r.modifiedCount > 0;
    },
    async setLastMessage(id, last) {
      await col.updateOne(
        { _id: idOf(id) },
        { $set: { last_message: last?.preview ?? null, last_message_sender: last?.sender ?? null, last_message_time: last?.at ?? null } },
      );
    },
    async findById(id) {
      const _id = parseId(id);
      if (!_id) return null;
      const d = await col.findOne({ _id });
      return d ? toConversation(d) : null;
    },
    membershipsOfUser,
    findManyById,
    async listForUser(email) {
      const mine = await membershipsOfUser(email);
      const byId = new Map((await findManyById(mine.map((m) => m.conversation_id))).map((c) => [c.id, c]));
      return assembleList(email, mine, (id) => byId.get(id));
    },
    async recordMessages(id, { count, unreadIncrements, preview, sender, at }) {
      const _id = idOf(id);
      const unread = unreadIncrements ? { "unread.0": unreadIncrements[0], "unread.1": unreadIncrements[1] } : {};
      const d = await col.findOneAndUpdate(
        { _id },
        {
          $inc: { last_seq: count, message_count: count, ...unread },
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
    async markRead(id, participantIndex, at, unread = 0) {
      const _id = parseId(id);
      if (!_id) return null;
      const d = await col.findOneAndUpdate(
        { _id },
        { $set: { [`unread.${participantIndex}`]: unread, [`last_read_at.${participantIndex}`]: at } },
        { returnDocument: "after" },
      );
      return d ? toConversation(d) : null;
    },
  };
}
