/**
 * Group commit for messages. Sends to one conversation are written one batch
 * at a time, in arrival order; while a batch is being written, new sends to
 * that conversation wait and then go together in the next batch: one atomic
 * conversation update (`$inc` of last_seq by the batch size and, in a direct
 * conversation, of each participant's unread count) and one insertMany; in a
 * group, one `$inc` of each sender's "own since read" counter instead of any
 * per-recipient write. Idle, a batch is one message; under load batches grow,
 * so throughput rises with load instead of latency exploding. Other work that
 * must not interleave with a batch (mark-read, edits, the last_message fix
 * after a delete) runs as an exclusive task in the same queue. Seqs, unread
 * counts and order stay exact: within this process batches of one
 * conversation never overlap, and across processes each batch is a single
 * atomic update on MongoDB (group reads: see group-read-states.ts).
 */
import { AppError } from "../errors.ts";
import { Semaphore } from "./semaphore.ts";
import { GroupReadStates, groupUnread } from "./group-read-states.ts";
import type { ConversationsRepo, MessagesRepo, NewMessage } from "./ports.ts";
import type { Conversation, Message } from "./types.ts";

export interface QueuedMessage {
  conversationId: string;
  /** Direct: 0 or 1, the recipient's index in the sorted participant pair. Group: null. */
  recipientIndex: 0 | 1 | null;
  doc: Omit<NewMessage, "seq">;
}

export interface Written {
  message: Message;
  /** The conversation as of this message (direct: its unread counts include this message and the ones before it). */
  conversation: Conversation;
  created: boolean;
  /** A member's unread count as of this message. */
  unreadOf(email: string): number;
}

type Pending =
  | { item: QueuedMessage; resolve(w: Written): void; reject(e: unknown): void }
  | { task: () => Promise<void> };

type MessagePending = Extract<Pending, { item: QueuedMessage }>;

const MAX_BATCH = 100;
const PREVIEW_LENGTH = 200;

/** A message as its conversation's last_message (preview, sender, time). */
export const lastMessageOf = (m: { message: string; sender_email: string; timestamp: Date }) => ({
  preview: m.message.slice(0, PREVIEW_LENGTH),
  sender: m.sender_email,
  at: m.timestamp,
});

export class MessageWriter {
  private readonly pending = new Map<string, Pending[]>();
  private readonly writers: Semaphore;

  constructor(
    private readonly conversations: ConversationsRepo,
    private readonly messages: MessagesRepo,
    writeConcurrency: number,
    private readonly isDatabaseUp: () => boolean = () => true,
    readonly groupStates: GroupReadStates = new GroupReadStates(conversations),
  ) {
    this.writers = new Semaphore(writeConcurrency);
  }

  /** Runs `fn` between two batches of the conversation: no send of this process interleaves with it. */
  exclusive<T>(conversationId: string, fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.enqueue(conversationId, { task: () => fn().then(resolve, reject) });
    });
  }

  private enqueue(conversationId: string, p: Pending): void {
    const queue = this.pending.get(conversationId);
    if (queue) {
      queue.push(p);
      return;
    }
    this.pending.set(conversationId, [p]);
    void this.drain(conversationId);
  }

  write(item: QueuedMessage): Promise<Written> {
    return new Promise((resolve, reject) => {
      // Known to be down: refuse now rather than queue behind writes that are waiting to time out.
      if (!this.isDatabaseUp()) {
        reject(new AppError("DATABASE_UNAVAILABLE", "database unavailable, try again later"));
        return;
      }
      this.enqueue(item.conversationId, { item, resolve, reject });
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
        const head = queue[0]!;
        if ("task" in head) {
          queue.shift();
          return head.task();
        }
        const end = queue.findIndex((p, i) => i >= MAX_BATCH || "task" in p);
        const batch = queue.splice(0, end === -1 ? queue.length : end) as MessagePending[];
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

  private async writeBatch(conversationId: string, batch: MessagePending[]): Promise<Written[]> {
    const group = batch[0]!.item.recipientIndex === null;
    const unread: [number, number] = [0, 0];
    for (const p of batch) if (p.item.recipientIndex !== null) unread[p.item.recipientIndex]++;
    const newest = batch[batch.length - 1]!.item.doc;
    const { conversation, lastSeq } = await this.conversations.recordMessages(conversationId, {
      count: batch.length,
      unreadIncrements: group ? null : unread,
      ...lastMessageOf(newest),
    });
    const first = lastSeq - batch.length + 1;
    const docs = batch.map((p, i) => ({ ...p.item.doc, seq: first + i }));
    if (group) return this.writeGroupBatch(conversation, docs);
    const stored = await this.messages.insertMany(docs);
    // A client_id re-send that another process stored first is not new: take back its unread increment
    // (its seq stays unused, which is harmless: seqs order messages, they do not count them).
    const uncounted: [number, number] = [0, 0];
    stored.forEach((s, i) => s.created || uncounted[batch[i]!.item.recipientIndex!]++);
    for (const idx of [0, 1] as const) if (uncounted[idx]) await this.conversations.uncount(conversationId, idx, uncounted[idx]);
    // Each message's own view of the unread counts: the final counts minus the later new messages of the batch.
    const [a, b] = conversation.participants as [string, string];
    const later: [number, number] = [uncounted[0], uncounted[1]];
    const out: Written[] = new Array(batch.length);
    for (let i = batch.length - 1; i >= 0; i--) {
      const unread_count = { [a]: (conversation.unread_count[a] ?? 0) - later[0], [b]: (conversation.unread_count[b] ?? 0) - later[1] };
      out[i] = { ...stored[i]!, conversation: { ...conversation, unread_count }, unreadOf: (e) => unread_count[e] ?? 0 };
      if (stored[i]!.created) later[batch[i]!.item.recipientIndex!]++;
    }
    return out;
  }

  /**
   * A group batch: the insert and one `$inc` per distinct sender of their own-since-read counter, at
   * the same time (a round trip less per message); each message's unreadOf is the members' pointers
   * against its seq, minus what the member sent up to it.
   */
  private async writeGroupBatch(conversation: Conversation, docs: NewMessage[]): Promise<Written[]> {
    // Before the counters move (a first load reads them from the database). A snapshot: entries are replaced,
    // never mutated, so later reads and sends do not change this batch's counts.
    const states = new Map(await this.groupStates.of(conversation.id, conversation.participants));
    const bySender = new Map<string, number>();
    for (const d of docs) bySender.set(d.sender_email, (bySender.get(d.sender_email) ?? 0) + 1);
    const [stored] = await Promise.all([
      this.messages.insertMany(docs),
      ...[...bySender].map(([sender, n]) => this.conversations.addOwn(conversation.id, sender, n)),
    ]);
    // A client_id re-send stored first by another process is not the sender's new message: take it back.
    const notNew = new Map<string, number>();
    for (const s of stored) if (!s.created) notNew.set(s.message.sender_email, (notNew.get(s.message.sender_email) ?? 0) + 1);
    for (const [sender, n] of notNew) await this.conversations.addOwn(conversation.id, sender, -n);
    const ownInBatch = new Map<string, number>();
    const out = stored.map((s): Written => {
      if (s.created) ownInBatch.set(s.message.sender_email, (ownInBatch.get(s.message.sender_email) ?? 0) + 1);
      const seq = s.message.seq;
      const ownSoFar = new Map(ownInBatch);
      const unreadOf = (email: string) => {
        const p = states.get(email);
        return p ? groupUnread(seq, { last_read_seq: p.last_read_seq, own_since_read: p.own_since_read + (ownSoFar.get(email) ?? 0) }) : 0;
      };
      return { ...s, conversation, unreadOf };
    });
    for (const [sender, n] of ownInBatch) this.groupStates.addOwn(conversation.id, sender, n);
    return out;
  }
}
