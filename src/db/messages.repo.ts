/**
 * Chat messages collection. A message sent with a client_id gets an _id
 * derived from (sender, client_id): a re-send after a reconnect collides on
 * _id and returns the stored message instead of storing it twice.
 */
import { ObjectId, type Collection } from "mongodb";
import type { MessagesRepo } from "../domain/ports.ts";
import type { Message, MessageType } from "../domain/types.ts";
import { derivedId, parseId } from "./ids.ts";
import type { MessageDoc } from "./mongo.ts";

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
  };
}

export function createMessagesRepo(col: Collection<MessageDoc>): MessagesRepo {
  return {
    async insertMany(list) {
      const docs: MessageDoc[] = list.map((m) => ({
        _id: m.client_id ? clientMessageId(m.sender_email, m.client_id) : new ObjectId(),
        ...m,
        edited: false,
        edited_at: null,
      }));
      const duplicates = new Set<number>();
      try {
        await col.insertMany(docs, { ordered: false });
      } catch (e) {
        // Unordered: every other document was inserted; only _id clashes (re-sent client_ids) are expected.
        const errors = (e as { writeErrors?: { index: number; code: number }[] | { index: number; code: number } }).writeErrors;
        const list = Array.isArray(errors) ? errors : errors ? [errors] : [];
        if (list.length === 0 || !list.every((w) => w.code === 11000 && docs[w.index]!.client_id)) throw e;
        for (const w of list) duplicates.add(w.index);
      }
      return Promise.all(
        docs.map(async (doc, i) => {
          if (!duplicates.has(i)) return { message: toMessage(doc), created: true };
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
      const docs = await col.find({ conversation_id: conversationId }).sort({ seq: -1 }).skip(skip).limit(limit).toArray();
      return docs.map(toMessage);
    },
    countInConversation(conversationId) {
      return col.countDocuments({ conversation_id: conversationId });
    },
  };
}
