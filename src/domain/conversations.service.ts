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
  skip: number;
  limit: number;
  total: number;
  has_more: boolean;
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

  constructor(
    private readonly repo: ConversationsRepo,
    private readonly messages: MessagesRepo,
    private readonly users: UsersService,
    private readonly publisher: () => ChatPublisher,
  ) {}

  list(caller: string): Promise<Conversation[]> {
    return this.repo.listForUser(caller);
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
    if (generation === this.contactsGeneration) this.contacts.set(email, set);
    return [...set];
  }

  async getForParticipant(id: string, caller: string): Promise<Conversation> {
    const c = await this.repo.findById(id);
    if (!c || participantIndex(c, caller) === -1) {
      throw new AppError("CONVERSATION_NOT_FOUND", "conversation not found");
    }
    return c;
  }

  /** skip counts from the newest message; the page is returned oldest first, ready to display. */
  async history(id: string, caller: string, skip: number, limit: number): Promise<MessagePage> {
    await this.getForParticipant(id, caller);
    const [newestFirst, total] = await Promise.all([
      this.messages.pageNewestFirst(id, skip, limit),
      this.messages.countInConversation(id),
    ]);
    return { messages: newestFirst.reverse(), skip, limit, total, has_more: skip + newestFirst.length < total };
  }

  async markRead(id: string, caller: string): Promise<{ conversation: Conversation; read_at: Date }> {
    const c = await this.getForParticipant(id, caller);
    const at = new Date();
    const updated = await this.repo.markRead(id, participantIndex(c, caller) as 0 | 1, at);
    if (!updated) throw new AppError("CONVERSATION_NOT_FOUND", "conversation not found");
    this.publisher().conversationRead(updated, caller, at);
    return { conversation: updated, read_at: at };
  }
}
