/**
 * What happens to a message after it is sent: edit (sender only), delete (the
 * sender, or an owner/admin of the group) and reactions (any member). Same
 * rules for REST and sockets; a message of a conversation the caller is not in
 * is "not found". Every change is stored before it is announced to the
 * conversation's members. A delete leaves a tombstone (seq kept, so history
 * cursors stay stable) and corrects the conversation's last_message when the
 * newest visible message went.
 */
import { AppError } from "../errors.ts";
import type { ConversationsService } from "./conversations.service.ts";
import { lastMessageOf, type MessageWriter } from "./message-writer.ts";
import type { SearchIndex } from "./message-search.ts";
import type { ChatPublisher, ConversationsRepo, MessagesRepo } from "./ports.ts";
import type { Conversation, Message, Reactions } from "./types.ts";

export const MAX_REACTIONS = 20;
const SCAN_PAGE = 50;

const notFound = () => new AppError("MESSAGE_NOT_FOUND", "message not found");

export class MessageLifecycleService {
  constructor(
    private readonly messages: MessagesRepo,
    private readonly conversationsRepo: ConversationsRepo,
    private readonly conversations: ConversationsService,
    private readonly writer: MessageWriter,
    private readonly publisher: () => ChatPublisher,
    /** Message search: told after an edit or delete is stored (it never fails the change). */
    private readonly searchIndex: SearchIndex,
  ) {}

  async edit(caller: string, id: string, text: string): Promise<Message> {
    const { message, conversation } = await this.visible(id, caller);
    if (message.sender_email !== caller) throw new AppError("FORBIDDEN", "only the sender can edit a message");
    const edited = await this.writer.exclusive(conversation.id, async () => {
      const m = await this.messages.editText(id, text, new Date());
      // The newest visible message's preview follows its text (newer messages may be tombstones).
      if (m && (await this.newestVisible(conversation.id))?.id === m.id) {
        await this.conversationsRepo.setLastMessage(conversation.id, lastMessageOf(m));
      }
      return m;
    });
    if (!edited) throw notFound();
    await this.searchIndex.edited(message, edited);
    this.publisher().messageEdited(edited, conversation.participants);
    return edited;
  }

  async delete(caller: string, id: string): Promise<Message> {
    const { message, conversation } = await this.visible(id, caller);
    const role = conversation.roles?.[caller];
    if (message.sender_email !== caller && role !== "owner" && role !== "admin") {
      throw new AppError("FORBIDDEN", "only the sender, or an owner or admin of the group, can delete a message");
    }
    // In the write queue: a send cannot slip between the tombstone and the last_message fix.
    const deleted = await this.writer.exclusive(conversation.id, async () => {
      const m = await this.messages.tombstone(id);
      if (m) {
        // When it was the newest visible one, last_message becomes the next older visible one (or none).
        const newest = await this.newestVisible(conversation.id);
        if (!newest || newest.seq < m.seq) await this.conversationsRepo.setLastMessage(conversation.id, newest ? lastMessageOf(newest) : null);
      }
      return m;
    });
    if (!deleted) throw notFound();
    await this.searchIndex.deleted(message);
    this.publisher().messageDeleted(deleted, conversation.participants);
    return deleted;
  }

  /** Idempotent per user: adding a reaction twice, or removing one never added, changes nothing. */
  async react(caller: string, id: string, emoji: string, on: boolean): Promise<Message> {
    const { conversation } = await this.visible(id, caller);
    let changed = false;
    const updated = await this.messages.mutateReactions(id, (current) => {
      changed = false;
      const next = on ? withReaction(current, emoji, caller) : withoutReaction(current, emoji, caller);
      changed = next !== null;
      return next;
    });
    if (!updated) throw notFound();
    if (changed) this.publisher().reactionUpdated(updated, conversation.participants);
    return updated;
  }

  /** The message and its conversation, if the caller is a member and the message is not deleted. */
  private async visible(id: string, caller: string): Promise<{ message: Message; conversation: Conversation }> {
    const message = await this.messages.findById(id);
    if (!message || message.deleted) throw notFound();
    try {
      return { message, conversation: await this.conversations.getForParticipant(message.conversation_id, caller) };
    } catch (e) {
      if (e instanceof AppError && e.code === "CONVERSATION_NOT_FOUND") throw notFound();
      throw e;
    }
  }

  /** The conversation's newest message that is not a tombstone (scanning back a page at a time), or null. */
  private async newestVisible(conversationId: string): Promise<Message | null> {
    const c = await this.conversationsRepo.findById(conversationId);
    if (!c) return null;
    let before = c.last_seq + 1;
    for (;;) {
      const page = await this.messages.pageBefore(conversationId, before, SCAN_PAGE);
      const newest = page.find((m) => !m.deleted);
      if (newest) return newest;
      if (page.length < SCAN_PAGE) return null;
      before = page[page.length - 1]!.seq;
    }
  }
}

/** Own keys only: a short code like `:constructor:` must not find Object.prototype's members. */
const usersOf = (r: Reactions, emoji: string): string[] | undefined => (Object.hasOwn(r, emoji) ? r[emoji] : undefined);

function withReaction(current: Reactions, emoji: string, user: string): Reactions | null {
  const users = usersOf(current, emoji);
  if (users?.includes(user)) return null;
  if (!users && Object.keys(current).length >= MAX_REACTIONS) {
    throw new AppError("VALIDATION_FAILED", `a message has at most ${MAX_REACTIONS} distinct reactions`);
  }
  return { ...current, [emoji]: [...(users ?? []), user] };
}

function withoutReaction(current: Reactions, emoji: string, user: string): Reactions | null {
  const users = usersOf(current, emoji);
  if (!users?.includes(user)) return null;
  const next = { ...current };
  const rest = users.filter((u) => u !== user);
  if (rest.length === 0) delete next[emoji];
  else next[emoji] = rest;
  return next;
}
