/**
 * Conversations: list, start, read history, mark read. Every read and write
 * checks that the caller takes part; a conversation the caller is not in is
 * reported as not found, so ids of other people's chats reveal nothing.
 */
import { AppError } from "../errors.ts";
import type { MessageWriter } from "./message-writer.ts";
import type { ChatPublisher, ConversationsRepo, MessagesRepo } from "./ports.ts";
import type { UsersService } from "./users.service.ts";
import type { Conversation, Message } from "./types.ts";
import { groupUnread } from "./group-read-states.ts";

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

export const participantIndex = (c: Conversation, email: string): number => c.participants.indexOf(email);

export const isMember = (c: Conversation, email: string): boolean => !c.closed && c.participants.includes(email);

export interface ReadResult {
  conversation: Conversation;
  read_at: Date;
  last_read_seq: number;
  /** The reader's unread count after the read. */
  unread_count: number;
}

/** What the hot paths need to know of a conversation: its type and members. */
export interface Membership {
  id: string;
  conversation_type: Conversation["conversation_type"];
  participants: string[];
}

/** Conversations whose members are kept in memory (oldest entry dropped first). */
const MEMBERSHIP_CACHE_MAX = 50_000;

/** Told after a conversation's members changed (this process): other features keep their caches with it. */
export type MembershipListener = (conversationId: string, members: string[]) => void;


export class ConversationsService {
  /** sorted pair key → conversation id; conversations are never deleted, so entries never go stale. */
  private readonly idByPair = new Map<string, string>();
  /** Members by conversation (sends by id and typing ask on every event); forgotten when membership changes here. */
  private readonly membersById = new Map<string, Membership>();
  private readonly contacts = new Map<string, Set<string>>();
  private contactsGeneration = 0;
  /** Bumped by every membership change: a load that raced one is not cached (it may hold the old members). */
  private membershipGeneration = 0;
  private readonly listeners: MembershipListener[] = [];

  constructor(
    private readonly repo: ConversationsRepo,
    private readonly messages: MessagesRepo,
    private readonly users: UsersService,
    private readonly publisher: () => ChatPublisher,
    private readonly writer: MessageWriter,
    /**
     * `shared` (cluster mode): members and contacts are never cached, as another node may create a conversation
     * or remove a member at any time; they are read from the database each time (a membership check is one
     * lookup by _id). One node: cached, and kept current by this process's own changes.
     */
    private readonly shared = false,
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
    if (r.created) this.membershipChanged(r.conversation.id, pair);
    return r;
  }

  /** The conversation id of a pair, creating the conversation when needed (cached: the send hot path). */
  async directIdFor(caller: string, toEmail: string): Promise<string> {
    const cached = this.idByPair.get(sortedPair(caller, toEmail).join("\n"));
    if (cached) return cached;
    return (await this.start(caller, toEmail)).conversation.id;
  }

  /** Other features' hook: called after members joined or left a conversation (or a conversation was created). */
  onMembershipChanged(fn: MembershipListener): void {
    this.listeners.push(fn);
  }

  /** Forgets what this process cached about the conversation's members and tells the listeners. */
  membershipChanged(conversationId: string, affected: string[]): void {
    this.membersById.delete(conversationId);
    this.writer.groupStates.forget(conversationId);
    this.membershipGeneration++;
    this.contactsGeneration++;
    for (const e of affected) this.contacts.delete(e);
    for (const fn of this.listeners) fn(conversationId, affected);
  }

  /** The current members of a conversation (cached in this process; forgotten when membership changes here). */
  async membersOf(conversationId: string): Promise<string[]> {
    return (await this.membership(conversationId))?.participants ?? [];
  }

  /**
   * The conversation's type and members if the caller is one, else not found: the membership check of the
   * hot paths (a send by conversation_id, typing), from the cache. Changes made by this process are seen at
   * once; in a cluster (no per-process caches) every check reads the conversation.
   */
  async requireMember(id: string, caller: string): Promise<Membership> {
    const m = await this.membership(id);
    if (!m || !m.participants.includes(caller)) throw new AppError("CONVERSATION_NOT_FOUND", "conversation not found");
    return m;
  }

  /** The caller's fellow members, checked (typing asks on every event). */
  async peersOf(id: string, caller: string): Promise<string[]> {
    return (await this.requireMember(id, caller)).participants.filter((m) => m !== caller);
  }

  private async membership(id: string): Promise<Membership | null> {
    const cached = this.membersById.get(id);
    if (cached) return cached;
    const generation = this.membershipGeneration;
    const c = await this.repo.findById(id);
    // Unknown ids are not cached: guessing ids must not fill memory.
    if (!c) return null;
    const m: Membership = { id, conversation_type: c.conversation_type, participants: c.closed ? [] : c.participants };
    if (generation !== this.membershipGeneration || this.shared) return m;
    if (this.membersById.size >= MEMBERSHIP_CACHE_MAX) this.membersById.delete(this.membersById.keys().next().value!);
    this.membersById.set(id, m);
    return m;
  }

  /**
   * Everyone who shares a conversation with the user (the audience of their presence), group
   * co-members included. Cached per user, and kept current when this process changes membership:
   * presence asks on every connect and disconnect.
   */
  async contactsOf(email: string): Promise<string[]> {
    const cached = this.contacts.get(email);
    if (cached) return [...cached];
    const generation = this.contactsGeneration;
    const list = await this.repo.listForUser(email);
    const set = new Set(list.flatMap((c) => c.participants));
    set.delete(email);
    // A conversation created while we were reading may be missing from `list`: then do not cache it.
    if (generation === this.contactsGeneration && !this.shared) this.contacts.set(email, set);
    return [...set];
  }

  /**
   * The conversation as stored, if the caller is a member; else not found. A group's unread counts are not in it
   * (each member's comes from their pointer: the list and mark-read compute it where they answer with it).
   */
  async getForParticipant(id: string, caller: string): Promise<Conversation> {
    const c = await this.repo.findById(id);
    if (!c || !isMember(c, caller)) {
      throw new AppError("CONVERSATION_NOT_FOUND", "conversation not found");
    }
    return c;
  }

  /** "Seen by": every member's read pointer. */
  async readState(id: string, caller: string): Promise<{ email: string; last_read_seq: number; read_at: Date | null }[]> {
    const c = await this.getForParticipant(id, caller);
    const states = await this.repo.membersOf(id);
    const inConversation = new Set(c.participants);
    return states
      .filter((m) => inConversation.has(m.user))
      .map((m) => ({ email: m.user, last_read_seq: m.last_read_seq, read_at: m.read_at }));
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

  /**
   * Moves the caller's read pointer to `upToSeq` (default: the newest message); never backwards.
   * Runs in the conversation's write queue, so no send of this process interleaves between reading
   * last_seq and setting the pointer. The other members are told (messages_read).
   */
  async markRead(id: string, caller: string, upToSeq?: number): Promise<ReadResult> {
    const c = await this.getForParticipant(id, caller);
    // Every read of a conversation takes the queue (direct ones too): two reads of one user racing (two tabs, one
    // reading up to a seq, one reading everything) would otherwise leave the pointer of one and the count of the other.
    return this.writer.exclusive(id, () => {
      if (c.conversation_type === "group") return this.markGroupRead(c, caller, upToSeq);
      return upToSeq === undefined ? this.markDirectRead(c, caller) : this.markDirectUpTo(c, caller, upToSeq);
    });
  }

  /** Everything read: one atomic update; its result's last_seq becomes the pointer. */
  private async markDirectRead(c: Conversation, caller: string): Promise<ReadResult> {
    const at = new Date();
    const updated = await this.repo.markRead(c.id, participantIndex(c, caller) as 0 | 1, at);
    if (!updated) throw new AppError("CONVERSATION_NOT_FOUND", "conversation not found");
    await this.repo.setReadPointer(c.id, caller, { last_read_seq: updated.last_seq, own_since_read: 0, read_at: at });
    this.publisher().conversationRead(updated, caller, at, updated.last_seq);
    return { conversation: updated, read_at: at, last_read_seq: updated.last_seq, unread_count: 0 };
  }

  /** Read up to a seq: the unread count becomes the other participant's messages after it. */
  private async markDirectUpTo(c: Conversation, caller: string, upToSeq: number): Promise<ReadResult> {
    const fresh = (await this.repo.findById(c.id)) ?? c;
    const me = await this.repo.memberState(c.id, caller);
    const current = me?.last_read_seq ?? 0;
    const target = Math.min(upToSeq, fresh.last_seq);
    if (target <= current) return this.unchanged(fresh, caller, me?.read_at ?? null, current);
    const at = new Date();
    const unread = target === fresh.last_seq ? 0 : await this.messages.countAfter(c.id, target, { notSender: caller });
    // The pointer first, and the count only if the pointer moved: a read that went further meanwhile (another
    // process) keeps its own count.
    const moved = await this.repo.setReadPointer(c.id, caller, { last_read_seq: target, own_since_read: 0, read_at: at });
    if (!moved) return this.unchanged(fresh, caller, me?.read_at ?? null, current);
    const updated = (await this.repo.markRead(c.id, participantIndex(c, caller) as 0 | 1, at, unread)) ?? fresh;
    this.publisher().conversationRead(updated, caller, at, target);
    return { conversation: updated, read_at: at, last_read_seq: target, unread_count: unread };
  }

  private async markGroupRead(c: Conversation, caller: string, upToSeq: number | undefined): Promise<ReadResult> {
    const fresh = (await this.repo.findById(c.id)) ?? c;
    const me = await this.repo.memberState(c.id, caller);
    if (!me) throw new AppError("CONVERSATION_NOT_FOUND", "conversation not found");
    const target = Math.min(upToSeq ?? fresh.last_seq, fresh.last_seq);
    if (target <= me.last_read_seq) return this.unchanged(fresh, caller, me.read_at, me.last_read_seq, groupUnread(fresh.last_seq, me));
    const at = new Date();
    const own = target === fresh.last_seq ? 0 : await this.messages.countAfter(c.id, target, { sender: caller });
    await this.repo.setReadPointer(c.id, caller, { last_read_seq: target, own_since_read: own, read_at: at });
    this.writer.groupStates.setPointer(c.id, caller, { last_read_seq: target, own_since_read: own });
    const unread = groupUnread(fresh.last_seq, { last_read_seq: target, own_since_read: own });
    const conversation = { ...fresh, unread_count: { [caller]: unread } };
    this.publisher().conversationRead(conversation, caller, at, target);
    return { conversation, read_at: at, last_read_seq: target, unread_count: unread };
  }

  /** The pointer is already there or further: nothing changes and nothing is announced. */
  private unchanged(c: Conversation, caller: string, readAt: Date | null, pointer: number, unread?: number): ReadResult {
    const count = unread ?? c.unread_count[caller] ?? 0;
    return { conversation: c, read_at: readAt ?? new Date(), last_read_seq: pointer, unread_count: count };
  }
}
