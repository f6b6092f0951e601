/**
 * Sending a message: the one path used by REST and by the socket event, for
 * direct conversations (`to_email`) and any conversation by id (groups too).
 * Validate → find (or create, direct) the conversation → drop re-sends (client_id) →
 * hand the message to the group-commit writer (seq, unread counts, insert) →
 * announce it. Nothing is announced before it is stored.
 */
import { AppError } from "../errors.ts";
import type { ConversationsService } from "./conversations.service.ts";
import type { MessageWriter } from "./message-writer.ts";
import { OrderedIntake, type Turn } from "./ordered-intake.ts";
import type { ChatPublisher, MessagesRepo } from "./ports.ts";
import type { SendMessageInput } from "./schemas.ts";
import type { Conversation, Message } from "./types.ts";
import type { UsersService } from "./users.service.ts";
import { noMessageHooks, type MessageHooks } from "./webhook-outbox.ts";

export interface Sender {
  email: string;
  name: string;
}

/** Where a send goes: the conversation and, for a direct one, the recipient's index in its sorted pair. */
interface Target {
  id: string;
  recipientIndex: 0 | 1 | null;
  /** Every member but the sender (the webhook outbox asks which of them are offline). */
  recipients: string[];
}

export interface SendResult {
  message: Message;
  conversation: Conversation | null;
  /** false when client_id matched an already stored message (nothing new stored or announced). */
  created: boolean;
}

export class MessagesService {
  /** Sends with a client_id still being written, so a quick re-send waits for the first instead of racing it. */
  private readonly inFlight = new Map<string, Promise<SendResult>>();
  /** Sends of one socket reach the writer in the order they arrived (see ordered-intake.ts). */
  private readonly intake = new OrderedIntake();

  constructor(
    private readonly messagesRepo: MessagesRepo,
    private readonly users: UsersService,
    private readonly conversations: ConversationsService,
    private readonly publisher: () => ChatPublisher,
    private readonly writer: MessageWriter,
    private readonly isDatabaseUp: () => boolean = () => true,
    private readonly hooks: MessageHooks = noMessageHooks,
  ) {}

  /**
   * `origin` names where the send came from (a socket id): sends of one origin are stored in
   * arrival order. Without it (REST), concurrent sends are ordered by when they reach the writer.
   */
  async send(sender: Sender, input: SendMessageInput, origin?: string): Promise<SendResult> {
    if (input.to_email === sender.email) {
      throw new AppError("CANNOT_MESSAGE_SELF", "you cannot send a message to yourself");
    }
    // Known to be down: refuse before any lookup, so sends do not queue behind driver timeouts.
    if (!this.isDatabaseUp()) throw new AppError("DATABASE_UNAVAILABLE", "database unavailable, try again later");
    const turn = this.intake.enter(origin);
    try {
      return await this.sendInTurn(sender, input, turn);
    } finally {
      turn.end();
    }
  }

  private async sendInTurn(sender: Sender, input: SendMessageInput, turn: Turn): Promise<SendResult> {
    if (!input.client_id) return this.store(sender, input, await this.resolveConversation(sender, input), turn);

    // Registered before the first await, so a twin that arrives at any moment of this send's life
    // (even while we are still looking for a stored copy) waits for it instead of writing a second copy.
    const key = `${sender.email}\n${input.client_id}`;
    const earlier = this.inFlight.get(key);
    if (earlier) return this.duplicateOf(await earlier, (await this.resolveConversation(sender, input)).id);
    const sending = this.sendOnce(sender, input, input.client_id, turn);
    this.inFlight.set(key, sending);
    try {
      return await sending;
    } finally {
      this.inFlight.delete(key);
    }
  }

  private async sendOnce(sender: Sender, input: SendMessageInput, clientId: string, turn: Turn): Promise<SendResult> {
    const target = await this.resolveConversation(sender, input);
    const dup = await this.messagesRepo.findByClientId(sender.email, clientId);
    if (dup) return this.duplicateOf({ message: dup, conversation: null, created: false }, target.id);
    return this.store(sender, input, target, turn);
  }

  /**
   * By `to_email`: the recipient must exist; the direct conversation is created on the first message.
   * By `conversation_id`: the sender must be a member (else not found).
   */
  private async resolveConversation(sender: Sender, input: SendMessageInput): Promise<Target> {
    if (input.conversation_id !== undefined) {
      const c = await this.conversations.requireMember(input.conversation_id, sender.email);
      const recipients = c.participants.filter((p) => p !== sender.email);
      if (c.conversation_type === "group") return { id: c.id, recipientIndex: null, recipients };
      return { id: c.id, recipientIndex: c.participants[0] === sender.email ? 1 : 0, recipients };
    }
    const to = input.to_email!;
    await this.users.requireExists(to);
    // Participants are stored as the sorted pair, so the recipient's index follows from the emails.
    const id = await this.conversations.directIdFor(sender.email, to);
    return { id, recipientIndex: to < sender.email ? 0 : 1, recipients: [to] };
  }

  private async store(sender: Sender, input: SendMessageInput, target: Target, turn: Turn): Promise<SendResult> {
    const conversationId = target.id;
    if (input.reply_to) await this.requireInConversation(input.reply_to, conversationId);
    const timestamp = new Date();
    // Webhook deliveries are decided now and stored with the message (webhook-outbox.ts).
    const outbox = await this.hooks.outboxFor(sender.email, target.recipients, timestamp);
    await turn.ready;
    const writing = this.writer.write({
      conversationId,
      recipientIndex: target.recipientIndex,
      doc: {
        conversation_id: conversationId,
        sender_email: sender.email,
        sender_name: sender.name,
        message: input.message,
        message_type: input.message_type,
        timestamp,
        reply_to: input.reply_to,
        client_id: input.client_id,
        outbox,
      },
    });
    // Queued: the next send of this origin may queue behind it while this one is written.
    turn.end();
    const written = await writing;
    if (written.created) this.publisher().messageCreated(written.message, written.conversation, written.unreadOf);
    return written;
  }

  private duplicateOf(first: SendResult, conversationId: string): SendResult {
    if (first.message.conversation_id !== conversationId) {
      throw new AppError("BAD_REQUEST", "client_id was already used for a message in another conversation");
    }
    return { message: first.message, conversation: null, created: false };
  }

  private async requireInConversation(messageId: string, conversationId: string): Promise<void> {
    const target = await this.messagesRepo.findById(messageId);
    if (!target || target.conversation_id !== conversationId) {
      throw new AppError("MESSAGE_NOT_FOUND", "reply_to must name a message of this conversation");
    }
  }
}
