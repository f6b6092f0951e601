/**
 * What the domain needs from the outside world, as interfaces. src/db
 * implements the repositories; the realtime gateway implements the publisher.
 */
import type { Conversation, Message, MessageType, User } from "./types.ts";
import type { Outbox } from "./webhook-outbox.ts";

export interface UsersRepo {
  /**
   * Creates the user or, when `overwrite`, updates name and (if given) profile_image. Without
   * `overwrite` an existing user's profile is left as it is (only the first login sets it).
   */
  upsertOnLogin(input: { email: string; name: string; profile_image?: string | null }, overwrite: boolean): Promise<User>;
  findByEmail(email: string): Promise<User | null>;
  /** Changes the given profile fields of an existing user; null when there is no such user. */
  updateProfile(email: string, changes: { name?: string; profile_image?: string | null }): Promise<User | null>;
  search(pattern: string, excludeEmail: string, limit: number): Promise<User[]>;
  setPresence(email: string, online: boolean, at: Date): Promise<void>;
  findPresence(emails: string[]): Promise<User[]>;
  /** After a crash no socket survives: clear every stale online flag at start. */
  resetAllOffline(at: Date): Promise<number>;
}

export interface ConversationsRepo {
  /** Finds the direct conversation of a sorted pair, creating it if absent (idempotent, race-safe). */
  findOrCreateDirect(pair: [string, string], now: Date): Promise<{ conversation: Conversation; created: boolean }>;
  findDirect(pair: [string, string]): Promise<Conversation | null>;
  findById(id: string): Promise<Conversation | null>;
  /** Every conversation the user is a member of, most recent activity first (ties: newer id first). */
  listForUser(email: string): Promise<Conversation[]>;
  /**
   * Atomically, for `count` new messages: last_seq += count, unread[i] += unreadIncrements[i],
   * last_message fields from the newest. Returns the updated conversation; the new messages
   * take the seqs last_seq - count + 1 … last_seq.
   */
  recordMessages(
    id: string,
    input: { count: number; unreadIncrements: [number, number]; preview: string; sender: string; at: Date },
  ): Promise<{ conversation: Conversation; lastSeq: number }>;
  /**
   * Takes back the counts of messages that turned out to be stored already (a re-send raced by
   * another process): message_count, and the recipient's unread count never below zero.
   */
  uncount(id: string, participantIndex: 0 | 1, n: number): Promise<void>;
  /**
   * Atomically sets one participant's unread count to zero; the result's last_seq is the
   * conversation's at that moment, which becomes the participant's read pointer.
   */
  markRead(id: string, participantIndex: 0 | 1, at: Date): Promise<Conversation | null>;
}

export interface NewMessage {
  conversation_id: string;
  sender_email: string;
  sender_name: string;
  message: string;
  message_type: MessageType;
  timestamp: Date;
  reply_to: string | null;
  client_id: string | null;
  seq: number;
  /** Webhook deliveries this message owes (webhook-outbox.ts), stored in the same document. */
  outbox?: Outbox | null;
}

export interface MessagesRepo {
  /** Inserts all of them (results in input order); a message whose (sender, client_id) is stored already comes back as the stored one with created=false. */
  insertMany(m: NewMessage[]): Promise<{ message: Message; created: boolean }[]>;
  findByClientId(sender: string, clientId: string): Promise<Message | null>;
  findById(id: string): Promise<Message | null>;
  /** Newest first by seq, after skipping `skip` newest. */
  pageNewestFirst(conversationId: string, skip: number, limit: number): Promise<Message[]>;
  /** Newest first: the `limit` messages just before seq `beforeSeq`. */
  pageBefore(conversationId: string, beforeSeq: number, limit: number): Promise<Message[]>;
  /** Oldest first: the `limit` messages just after seq `afterSeq`. */
  pageAfter(conversationId: string, afterSeq: number, limit: number): Promise<Message[]>;
}

/** Real-time side effects of domain operations; called only after data is persisted. */
export interface ChatPublisher {
  messageCreated(message: Message, conversation: Conversation): void;
  conversationRead(conversation: Conversation, readerEmail: string, readAt: Date): void;
  typingChanged(conversationId: string, userEmail: string, to: string, typing: boolean): void;
  /** `audience`: the users who share a conversation with `email`. */
  presenceChanged(email: string, online: boolean, lastSeen: Date | null, audience: string[]): void;
  /** A user's public profile changed; `audience`: the users who share a conversation with them. */
  userUpdated(user: { email: string; name: string; profile_image: string | null }, audience: string[]): void;
}

export const noopPublisher: ChatPublisher = {
  messageCreated() {},
  conversationRead() {},
  typingChanged() {},
  presenceChanged() {},
  userUpdated() {},
};
