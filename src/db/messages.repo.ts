/**
 * Chat messages collection. A message sent with a client_id gets an _id
 * derived from (sender, client_id): a re-send after a reconnect collides on
 * _id and returns the stored message instead of storing it twice.
 */
import { ObjectId, type Collection } from "mongodb";
import type { MessagesRepo } from "../domain/ports.ts";
import type { Message, MessageType, Reactions } from "../domain/types.ts";
import { derivedId, duplicatePositions, parseId } from "./ids.ts";
import type { MessageDoc } from "./mongo.ts";
import { ONE_BATCH } from "./reads.ts";

const clientMessageId = (sender: string, clientId: string) => derivedId("message", sender, clientId);

export function toMessage(d: MessageDoc): Message {
  return {
    id: d._id.toHexString(),
    conversation_id: d.conversation_id,
    sender_email: d.sender_email,
    sender_name: d.sender_name,
    message: d.message,
    message_type: d.message_type as MessageType,
    timestamp: d.timestamp,
    edited: d.edited === true,
    edited_at: d.edited_at ?? null,
    reply_to: d.reply_to ?? null,
    client_id: d.client_id ?? null,
    seq: d.seq,
    deleted: d.deleted === true,
    reactions: Object.fromEntries((d.reactions ?? []).map((r) => [r.emoji, [...r.users]])),
  };
}

/** Stored as a list: emoji are data, not field names (a field name cannot be any string on every server). */
const toStoredReactions = (r: Reactions) => Object.entries(r).map(([emoji, users]) => ({ emoji, users }));

const MUTATE_RETRIES = 20;

/** `afterInsert`: called with the newly stored messages before insertMany returns (the search index). */
export function createMessagesRepo(col: Collection<MessageDoc>, afterInsert?: (created: Message[]) => Promise<void>): MessagesRepo {
  return {
    async insertMany(list) {
      const docs: MessageDoc[] = list.map(({ outbox, ...m }) => ({
        _id: m.client_id ? clientMessageId(m.sender_email, m.client_id) : new ObjectId(),
        ...m,
        edited: false,
        edited_at: null,
        // The webhook outbox rides in the message document: stored by the same insert (webhook-outbox.repo.ts).
        ...(outbox ? { webhooks: outbox.webhooks, webhook_due: outbox.webhook_due } : {}),
      }));
      const duplicates = new Set<number>();
      try {
        await col.insertMany(docs, { ordered: false });
      } catch (e) {
        // Unordered: every other document was inserted; only _id clashes (re-sent client_ids) are expected.
        const clashes = duplicatePositions(e);
        if (!clashes || !clashes.every((i) => docs[i]?.client_id)) throw e;
        for (const i of clashes) duplicates.add(i);
      }
      const created = docs.map((d, i) => (duplicates.has(i) ? null : toMessage(d)));
      if (afterInsert) await afterInsert(created.filter((m): m is Message => m !== null));
      return Promise.all(
        docs.map(async (doc, i) => {
          const message = created[i];
          if (message) return { message, created: true };
          const stored = await col.findOne({ _id: doc._id });
          if (!stored) throw new Error("duplicate message vanished");
          return { message: toMessage(stored), created: false };
        }),
      );
    },
    async findByClientId(sender, clientId) {
      const d = await col.findOne({ _id: clientMessageId(sender, clientId) });
      return d ? toMessage(d) : null;
    },
    async findById(id) {
      const _id = parseId(id);
      if (!_id) return null;
      const d = await col.findOne({ _id });
      return d ? toMessage(d) : null;
    },
    async pageNewestFirst(conversationId, skip, limit) {
      const docs = await col.find({ conversation_id: conversationId }, ONE_BATCH).sort({ seq: -1 }).skip(skip).limit(limit).toArray();
      return docs.map(toMessage);
    },
    async pageBefore(conversationId, beforeSeq, limit) {
      const docs = await col.find({ conversation_id: conversationId, seq: { $lt: beforeSeq } }, ONE_BATCH).sort({ seq: -1 }).limit(limit).toArray();
      return docs.map(toMessage);
    },
    async countAfter(conversationId, afterSeq, by) {
      const who = "sender" in by ? { sender_email: by.sender } : { sender_email: { $ne: by.notSender } };
      return col.countDocuments({ conversation_id: conversationId, seq: { $gt: afterSeq }, ...who });
    },
    async editText(id, text, at) {
      const _id = parseId(id);
      if (!_id) return null;
      const d = await col.findOneAndUpdate(
        { _id, deleted: { $ne: true } },
        { $set: { message: text, edited: true, edited_at: at } },
        { returnDocument: "after" },
      );
      return d ? toMessage(d) : null;
    },
    async tombstone(id) {
      const _id = parseId(id);
      if (!_id) return null;
      const d = await col.findOneAndUpdate(
        { _id, deleted: { $ne: true } },
        { $set: { deleted: true, message: "", reactions: [] } },
        { returnDocument: "after" },
      );
      return d ? toMessage(d) : null;
    },
    async mutateReactions(id, mutate) {
      const _id = parseId(id);
      if (!_id) return null;
      // Compare-and-set on the whole reaction list: a concurrent change makes the update miss, and we read again.
      for (let i = 0; i < MUTATE_RETRIES; i++) {
        const d = await col.findOne({ _id, deleted: { $ne: true } });
        if (!d) return null;
        const current = toMessage(d);
        const next = mutate(current.reactions);
        if (!next) return current;
        const rev = d.reactions_rev ?? 0;
        const revFilter = rev === 0 ? { $or: [{ reactions_rev: 0 }, { reactions_rev: { $exists: false } }] } : { reactions_rev: rev };
        const updated = await col.findOneAndUpdate(
          { _id, deleted: { $ne: true }, ...revFilter },
          { $set: { reactions: toStoredReactions(next), reactions_rev: rev + 1 } },
          { returnDocument: "after" },
        );
        if (updated) return toMessage(updated);
      }
      throw new Error("reactions: too much contention");
    },
    async pageAfter(conversationId, afterSeq, limit) {
      const docs = await col.find({ conversation_id: conversationId, seq: { $gt: afterSeq } }, ONE_BATCH).sort({ seq: 1 }).limit(limit).toArray();
      return docs.map(toMessage);
    },
  };
}
