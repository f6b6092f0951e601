/**
 * Conversations: list, start, read history, mark read. Every read and write
 * checks that the caller takes part; a conversation the caller is not in is
 * reported as not found, so ids of other people's chats reveal nothing.
 */
import { AppError } from "../errors.ts";
import type { ChatPublisher, ConversationsRepo, MessagesRepo } from "./ports.ts";
import type { UsersService } from "./users.service.ts";
import type { Conversation, Message } from "./types.ts";

export interface MessagePage {
  /** Oldest first within the page. */
  messages: Message[];
  /** Messages stored in the conversation. */
  total: number;
  /** More messages lie beyond this page in the direction read (older for skip/before, newer for after). */
  has_more: boolean;
}

/** Where a history page starts: skip counts from the newest; before/after are seqs (exclusive). */
export type PageAt = { skip: number } | { before: number } | { after: number };

export interface ConversationPage {
  conversations: Conversation[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  next_cursor: string | null;
}

/** An opaque list cursor: the last item's position in the list order (activity time, then id). */
const listCursor = (c: Conversation) => Buffer.from(`${c.last_activity.getTime()}:${c.id}`).toString("base64url");

function parseListCursor(cursor: string): { at: number; id: string } {
  const m = /^(\d{1,15}):([0-9a-f]{24})$/.exec(Buffer.from(cursor, "base64url").toString());
  if (!m) throw new AppError("VALIDATION_FAILED", "invalid cursor");
  return { at: Number(m[1]), id: m[2]! };
}

export const sortedPair = (a: string, b: string): [string, string] => (a < b ? [a, b] : [b, a]);

export const participantIndex = (c: Conversation, email: string): 0 | 1 | -1 =>
  c.participants[0] === email ? 0 : c.participants[1] === email ? 1 : -1;

export const otherParticipant = (c: Conversation, email: string): string =>
  c.participants[0] === email ? c.participants[1] : c.participants[0];

export class ConversationsService {
  /** sorted pair key → conversation id; conversations are never deleted, so entries never go stale. */
  private readonly idByPair = new Map<string, string>();
  private readonly pairById = new Map<string, [string, string]>();
  private readonly contacts = new Map<string, Set<string>>();
  private contactsGeneration = 0;
  /**
   * Whether contacts may be cached: only when every conversation is created by this process (one node). In a
   * cluster another node may create one at any time, so contacts are read from the database each time.
   */
  cacheContacts = true;

  constructor(
    private readonly repo: ConversationsRepo,
    private readonly messages: MessagesRepo,
    private readonly users: UsersService,
    private readonly publisher: () => ChatPublisher,
  ) {}

  /** A page of the caller's conversations, most recent activity first; `before` is a cursor from the previous page. */
  async list(caller: string, limit: number, before?: string): Promise<ConversationPage> {
    const all = await this.repo.listForUser(caller);
    let start = 0;
    if (before !== undefined) {
      const { at, id } = parseListCursor(before);
      // The first conversation that sorts after the cursor's position (older, or as old with a smaller id).
      start = all.findIndex((c) => c.last_activity.getTime() < at || (c.last_activity.getTime() === at && c.id < id));
      if (start === -1) start = all.length;
    }
    const conversations = all.slice(start, start + limit);
    const last = conversations[conversations.length - 1];
    return { conversations, next_cursor: last && start + limit < all.length ? listCursor(last) : null };
  }

  /** Idempotent from either side: both users always get the same conversation. */
  async start(caller: string, toEmail: string): Promise<{ conversation: Conversation; created: boolean }> {
    if (toEmail === caller) throw new AppError("CANNOT_MESSAGE_SELF", "you cannot start a conversation with yourself");
    await this.users.requireExists(toEmail);
    const pair = sortedPair(caller, toEmail);
    const r = await this.repo.findOrCreateDirect(pair, new Date());
    this.idByPair.set(pair.join("\n"), r.conversation.id);
    if (r.created) {
      this.contactsGeneration++;
      this.contacts.delete(pair[0]);
      this.contacts.delete(pair[1]);
    }
    return r;
  }

  /** The conversation id of a pair, creating the conversation when needed (cached: the send hot path). */
  async directIdFor(caller: string, toEmail: string): Promise<string> {
    const cached = this.idByPair.get(sortedPair(caller, toEmail).join("\n"));
    if (cached) return cached;
    return (await this.start(caller, toEmail)).conversation.id;
  }

  /**
   * The caller and the other participant, checked; cached because participants never change
   * (typing and join events ask this on every call).
   */
  async peerOf(id: string, caller: string): Promise<string> {
    let pair = this.pairById.get(id);
    if (!pair) {
      pair = (await this.getForParticipant(id, caller)).participants;
      this.pairById.set(id, pair);
    }
    if (pair[0] === caller) return pair[1];
    if (pair[1] === caller) return pair[0];
    throw new AppError("CONVERSATION_NOT_FOUND", "conversation not found");
  }

  /**
   * Everyone who shares a conversation with the user (the audience of their presence).
   * Cached per user, and kept current when this process creates a conversation: presence
   * asks on every connect and disconnect.
   */
  async contactsOf(email: string): Promise<string[]> {
    const cached = this.contacts.get(email);
    if (cached) return [...cached];
    const generation = this.contactsGeneration;
    const list = await this.repo.listForUser(email);
    const set = new Set(list.map((c) => otherParticipant(c, email)));
    // A conversation created while we were reading may be missing from `list`: then do not cache it.
    if (generation === this.contactsGeneration && this.cacheContacts) this.contacts.set(email, set);
    return [...set];
  }

  async getForParticipant(id: string, caller: string): Promise<Conversation> {
    const c = await this.repo.findById(id);
    if (!c || participantIndex(c, caller) === -1) {
      throw new AppError("CONVERSATION_NOT_FOUND", "conversation not found");
    }
    return c;
  }

  /** A page of history, returned oldest first, ready to display. Costs the page, never the whole conversation. */
  async history(id: string, caller: string, at: PageAt, limit: number): Promise<MessagePage> {
    const { message_count: total } = await this.getForParticipant(id, caller);
    if ("skip" in at) {
      const newestFirst = await this.messages.pageNewestFirst(id, at.skip, limit);
      return { messages: newestFirst.reverse(), total, has_more: at.skip + newestFirst.length < total };
    }
    // One more than asked tells whether anything lies beyond the page, without a count.
    if ("before" in at) {
      const newestFirst = await this.messages.pageBefore(id, at.before, limit + 1);
      const has_more = newestFirst.length > limit;
      return { messages: newestFirst.slice(0, limit).reverse(), total, has_more };
    }
    const oldestFirst = await this.messages.pageAfter(id, at.after, limit + 1);
    return { messages: oldestFirst.slice(0, limit), total, has_more: oldestFirst.length > limit };
  }

  /** last_read_seq: the conversation's last seq at the moment the count was reset (everything up to it is read). */
  async markRead(id: string, caller: string): Promise<{ conversation: Conversation; read_at: Date; last_read_seq: number }> {
    const c = await this.getForParticipant(id, caller);
    const at = new Date();
    const updated = await this.repo.markRead(id, participantIndex(c, caller) as 0 | 1, at);
    if (!updated) throw new AppError("CONVERSATION_NOT_FOUND", "conversation not found");
    this.publisher().conversationRead(updated, caller, at);
    return { conversation: updated, read_at: at, last_read_seq: updated.last_seq };
  }
}
