/**
 * Group members' read pointers in memory, per conversation: what a send needs
 * to tell each of 1,000 recipients their own unread count without reading
 * 1,000 documents. unread(member) = last_seq − last_read_seq − own_since_read
 * (the messages they sent after their pointer). Loaded from the member docs on
 * first use; kept current by the writer (sends) and by mark-read, both of
 * which run in the conversation's write queue (message-writer.ts), so within
 * this process the values are exact. Membership changes forget the entry.
 * Another process's reads and sends are not seen here, so when several
 * processes share the database (cluster mode, `shared`) nothing is kept: the
 * pointers are read for every batch (one indexed query of the member docs).
 */
import type { ConversationsRepo } from "./ports.ts";

export interface ReadPointer {
  last_read_seq: number;
  own_since_read: number;
}

/** A group member's unread count at `lastSeq`: the messages after their pointer that they did not send. */
export const groupUnread = (lastSeq: number, p: ReadPointer) => Math.max(0, lastSeq - p.last_read_seq - p.own_since_read);

/** Conversations kept (least recently used dropped first): a bound on memory, not on correctness. */
const MAX_CONVERSATIONS = 2_000;

export class GroupReadStates {
  private readonly byConversation = new Map<string, Map<string, ReadPointer>>();

  constructor(
    private readonly repo: ConversationsRepo,
    private readonly shared = false,
  ) {}

  /** The pointers of every current member (reloaded when a member is missing: they joined elsewhere). */
  async of(conversationId: string, members: readonly string[]): Promise<Map<string, ReadPointer>> {
    let states = this.byConversation.get(conversationId);
    if (states && !this.shared && members.every((m) => states!.has(m))) {
      this.byConversation.delete(conversationId);
      this.byConversation.set(conversationId, states);
      return states;
    }
    const loaded = await this.repo.membersOf(conversationId);
    states = new Map(loaded.map((m) => [m.user, { last_read_seq: m.last_read_seq, own_since_read: m.own_since_read }]));
    this.byConversation.set(conversationId, states);
    if (this.byConversation.size > MAX_CONVERSATIONS) this.byConversation.delete(this.byConversation.keys().next().value!);
    return states;
  }

  /** After a read (called in the conversation's write queue). */
  setPointer(conversationId: string, user: string, p: ReadPointer): void {
    this.byConversation.get(conversationId)?.set(user, { ...p });
  }

  /** Entries are replaced, never changed in place, so a copied map is a stable snapshot. */
  addOwn(conversationId: string, user: string, n: number): void {
    const states = this.byConversation.get(conversationId);
    const p = states?.get(user);
    if (p) states!.set(user, { last_read_seq: p.last_read_seq, own_since_read: p.own_since_read + n });
  }

  /** Members joined or left: read again on next use. */
  forget(conversationId: string): void {
    this.byConversation.delete(conversationId);
  }
}
