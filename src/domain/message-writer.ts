/**
 * Group commit for messages. Sends to one conversation are written one batch
 * at a time, in arrival order; while a batch is being written, new sends to
 * that conversation wait and then go together in the next batch: one atomic
 * conversation update (`$inc` of last_seq by the batch size and of each
 * participant's unread count) and one insertMany. Idle, a batch is one
 * message; under load batches grow, so throughput rises with load instead of
 * latency exploding. Seqs, unread counts and order stay exact: within this
 * process batches of one conversation never overlap, and across processes
 * each batch is a single atomic update on MongoDB.
 */
import { AppError } from "../errors.ts";
import { Semaphore } from "./semaphore.ts";
import type { ConversationsRepo, MessagesRepo, NewMessage } from "./ports.ts";
import type { Conversation, Message } from "./types.ts";

export interface QueuedMessage {
  conversationId: string;
  /** 0 or 1: the recipient's index in the conversation's sorted participant pair. */
  recipientIndex: 0 | 1;
  doc: Omit<NewMessage, "seq">;
}

export interface Written {
  message: Message;
  /** The conversation as of this message (its unread counts include this message and the ones before it). */
  conversation: Conversation;
  created: boolean;
}

interface Pending {
  item: QueuedMessage;
  resolve(w: Written): void;
  reject(e: unknown): void;
}

const MAX_BATCH = 100;
const PREVIEW_LENGTH = 200;

export class MessageWriter {
  private readonly pending = new Map<string, Pending[]>();
  private readonly writers: Semaphore;

  constructor(
    private readonly conversations: ConversationsRepo,
    private readonly messages: MessagesRepo,
    writeConcurrency: number,
    private readonly isDatabaseUp: () => boolean = () => true,
  ) {
    this.writers = new Semaphore(writeConcurrency);
  }

  write(item: QueuedMessage): Promise<Written> {
    return new Promise((resolve, reject) => {
      // Known to be down: refuse now rather than queue behind writes that are waiting to time out.
      if (!this.isDatabaseUp()) {
        reject(new AppError("DATABASE_UNAVAILABLE", "database unavailable, try again later"));
        return;
      }
      const queue = this.pending.get(item.conversationId);
      if (queue) {
        queue.push({ item, resolve, reject });
        return;
      }
      this.pending.set(item.conversationId, [{ item, resolve, reject }]);
      void this.drain(item.conversationId);
    });
  }

  /**
   * Writes the conversation's queue batch by batch until it is empty; the map entry marks "a writer is active".
   * A batch is taken only once a write slot is ours, so everything that arrived while waiting for the slot goes
   * in it: under load batches grow instead of the database's command queue.
   */
  private async drain(conversationId: string): Promise<void> {
    const queue = this.pending.get(conversationId)!;
    while (queue.length > 0) {
      await this.writers.run(async () => {
        const batch = queue.splice(0, MAX_BATCH);
        try {
          const written = await this.writeBatch(conversationId, batch);
          batch.forEach((p, i) => p.resolve(written[i]!));
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      });
    }
    this.pending.delete(conversationId);
  }

  private async writeBatch(conversationId: string, batch: Pending[]): Promise<Written[]> {
    const unread: [number, number] = [0, 0];
    for (const p of batch) unread[p.item.recipientIndex]++;
    const newest = batch[batch.length - 1]!.item.doc;
    const { conversation, lastSeq } = await this.conversations.recordMessages(conversationId, {
      count: batch.length,
      unreadIncrements: unread,
      preview: newest.message.slice(0, PREVIEW_LENGTH),
      sender: newest.sender_email,
      at: newest.timestamp,
    });
    const first = lastSeq - batch.length + 1;
    const stored = await this.messages.insertMany(batch.map((p, i) => ({ ...p.item.doc, seq: first + i })));
    // A client_id re-send that another process stored first is not new: take back its unread increment
    // (its seq stays unused, which is harmless: seqs order messages, they do not count them).
    const uncounted: [number, number] = [0, 0];
    stored.forEach((s, i) => s.created || uncounted[batch[i]!.item.recipientIndex]++);
    for (const idx of [0, 1] as const) if (uncounted[idx]) await this.conversations.uncount(conversationId, idx, uncounted[idx]);
    // Each message's own view of the unread counts: the final counts minus the later new messages of the batch.
    const [a, b] = conversation.participants;
    const later: [number, number] = [uncounted[0], uncounted[1]];
    const out: Written[] = new Array(batch.length);
    for (let i = batch.length - 1; i >= 0; i--) {
      out[i] = {
        ...stored[i]!,
        conversation: {
          ...conversation,
          unread_count: { [a]: (conversation.unread_count[a] ?? 0) - later[0], [b]: (conversation.unread_count[b] ?? 0) - later[1] },
        },
      };
      if (stored[i]!.created) later[batch[i]!.item.recipientIndex]++;
    }
    return out;
  }
}
