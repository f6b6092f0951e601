/**
 * Sending a message: the one path used by REST and by the socket event.
 * Order of work: validate → find or create the conversation → (per
 * conversation, one at a time) take the next seq and bump the recipient's
 * unread count → store the message → announce it. Nothing is announced before
 * it is stored.
 */
import { AppError } from "../errors.ts";
import type { ConversationsService } from "./conversations.service.ts";
import { sortedPair } from "./conversations.service.ts";
import { KeyedQueue } from "./keyed-queue.ts";
import { Semaphore } from "./semaphore.ts";
import type { ChatPublisher, ConversationsRepo, MessagesRepo } from "./ports.ts";
import type { SendMessageInput } from "./schemas.ts";
import type { Conversation, Message } from "./types.ts";
import type { UsersService } from "./users.service.ts";

export interface Sender {
  email: string;
  name: string;
}

export interface SendResult {
  message: Message;
  conversation: Conversation | null;
  /** false when client_id matched an already stored message (nothing new stored or announced). */
  created: boolean;
}

const PREVIEW_LENGTH = 200;

export class MessagesService {
  private readonly queue = new KeyedQueue();
  private readonly writers: Semaphore;

  constructor(
    private readonly conversationsRepo: ConversationsRepo,
    private readonly messagesRepo: MessagesRepo,
    private readonly users: UsersService,
    private readonly conversations: ConversationsService,
    private readonly publisher: () => ChatPublisher,
    writeConcurrency: number,
  ) {
    this.writers = new Semaphore(writeConcurrency);
  }

  async send(sender: Sender, input: SendMessageInput): Promise<SendResult> {
    if (input.to_email === sender.email) {
      throw new AppError("CANNOT_MESSAGE_SELF", "you cannot send a message to yourself");
    }
    await this.users.requireExists(input.to_email);
    const conversationId = await this.conversations.directIdFor(sender.email, input.to_email);

    if (input.client_id) {
      const dup = await this.messagesRepo.findByClientId(sender.email, input.client_id);
      if (dup) return this.duplicate(dup, conversationId);
    }
    if (input.reply_to) await this.requireInConversation(input.reply_to, conversationId);

    const result = await this.queue.run(conversationId, () => this.writers.run(() => this.store(sender, input, conversationId)));
    if (result.created && result.conversation) this.publisher().messageCreated(result.message, result.conversation);
    return result;
  }

  private async store(sender: Sender, input: SendMessageInput, conversationId: string): Promise<SendResult> {
    if (input.client_id) {
      // Re-checked inside the queue: two re-sends racing each other in this process.
      const dup = await this.messagesRepo.findByClientId(sender.email, input.client_id);
      if (dup) return this.duplicate(dup, conversationId);
    }
    const at = new Date();
    // Participants are stored as the sorted pair, so the recipient's index follows from the emails.
    const recipientIndex = sortedPair(sender.email, input.to_email)[0] === input.to_email ? 0 : 1;
    const { conversation, seq } = await this.conversationsRepo.recordMessage(conversationId, {
      recipientIndex,
      preview: input.message.slice(0, PREVIEW_LENGTH),
      sender: sender.email,
      at,
    });
    const { message, created } = await this.messagesRepo.insert({
      conversation_id: conversationId,
      sender_email: sender.email,
      sender_name: sender.name,
      message: input.message,
      message_type: input.message_type,
      timestamp: at,
      reply_to: input.reply_to,
      client_id: input.client_id,
      seq,
    });
    return { message, conversation, created };
  }

  private duplicate(dup: Message, conversationId: string): SendResult {
    if (dup.conversation_id !== conversationId) {
      throw new AppError("BAD_REQUEST", "client_id was already used for a message in another conversation");
    }
    return { message: dup, conversation: null, created: false };
  }

  private async requireInConversation(messageId: string, conversationId: string): Promise<void> {
    const target = await this.messagesRepo.findById(messageId);
    if (!target || target.conversation_id !== conversationId) {
      throw new AppError("MESSAGE_NOT_FOUND", "reply_to must name a message of this conversation");
    }
  }
}
