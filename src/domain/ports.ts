/**
 * What the domain needs from the outside world, as interfaces. src/db
 * implements the repositories; the realtime gateway implements the publisher.
 */
import type { Conversation, Membership, MemberState, Message, MessageType, Reactions, Role, User } from "./types.ts";
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

export interface GroupChanges {
  participants?: string[];
  roles?: Role[];
  title?: string;
  closed?: boolean;
}

export interface ConversationsRepo {
  /** A new group; member docs first (with read pointers at 0), then the conversation. */
  createGroup(input: { title: string; participants: string[]; roles: Role[]; now: Date }): Promise<Conversation>;
  /** Optimistic: applies the changes only if the group's version is still `version`; null otherwise. */
  updateGroup(id: string, version: number, changes: GroupChanges): Promise<Conversation | null>;
  /** Membership documents of new group members, their read pointer at `lastReadSeq` (they start with nothing unread). */
  addMemberDocs(id: string, users: string[], now: Date, lastReadSeq: number): Promise<void>;
  removeMemberDocs(id: string, users: string[]): Promise<void>;
  memberState(id: string, user: string): Promise<MemberState | null>;
  /** Every member's state (one query on the conversation's scalar index). */
  membersOf(id: string): Promise<MemberState[]>;
  /** Adds n (negative: takes back) to a member's "own messages since read" counter. */
  addOwn(id: string, user: string, n: number): Promise<void>;
  /** Moves a member's read pointer forward (never backwards); false when it was already at or past it. */
  setReadPointer(id: string, user: string, state: { last_read_seq: number; own_since_read: number; read_at: Date }): Promise<boolean>;
  /** The last_message fields after the newest message was deleted (null: no message left). */
  setLastMessage(id: string, last: { preview: string; sender: string; at: Date } | null): Promise<void>;
  /** Finds the direct conversation of a sorted pair, creating it if absent (idempotent, race-safe). */
  findOrCreateDirect(pair: [string, string], now: Date): Promise<{ conversation: Conversation; created: boolean }>;
  findDirect(pair: [string, string]): Promise<Conversation | null>;
  findById(id: string): Promise<Conversation | null>;
  /** Every conversation the user is a member of, most recent activity first (ties: newer id first). */
  listForUser(email: string): Promise<Conversation[]>;
  /** The user's membership documents (listForUser's first half). */
  membershipsOfUser(email: string): Promise<Membership[]>;
  /** The conversations as stored, without a reader (a group's unread_count is empty; listForUser's second half). */
  findManyById(ids: string[]): Promise<Conversation[]>;
  /**
   * Atomically, for `count` new messages: last_seq += count, unread[i] += unreadIncrements[i] (direct only: null for groups),
   * last_message fields from the newest. Returns the updated conversation; the new messages
   * take the seqs last_seq - count + 1 … last_seq.
   */
  recordMessages(
    id: string,
    input: { count: number; unreadIncrements: [number, number] | null; preview: string; sender: string; at: Date },
  ): Promise<{ conversation: Conversation; lastSeq: number }>;
  /**
   * Takes back the counts of messages that turned out to be stored already (a re-send raced by
   * another process): message_count, and the recipient's unread count never below zero.
   */
  uncount(id: string, participantIndex: 0 | 1, n: number): Promise<void>;
  /**
   * Atomically sets one participant's unread count (direct conversations) to `unread` (0: all read).
   */
  markRead(id: string, participantIndex: 0 | 1, at: Date, unread?: number): Promise<Conversation | null>;
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
  /** Messages after seq `afterSeq`: all of them, or (with `sender`) only theirs, or (with `notSender`) everyone else's. */
  countAfter(conversationId: string, afterSeq: number, by: { sender: string } | { notSender: string }): Promise<number>;
  /** New text, edited=true; null when there is no such live (not deleted) message. */
  editText(id: string, text: string, at: Date): Promise<Message | null>;
  /** Tombstone: deleted=true, text and reactions removed, seq kept; null when not found or already deleted. */
  tombstone(id: string): Promise<Message | null>;
  /**
   * Changes the reactions atomically (retried on a concurrent change); `mutate` gets the current
   * reactions and returns the new ones, or null for "no change". null when not found or deleted.
   */
  mutateReactions(id: string, mutate: (current: Reactions) => Reactions | null): Promise<Message | null>;
}

/** Real-time side effects of domain operations; called only after data is persisted. */
export interface ChatPublisher {
  /** `unreadOf(email)`: a recipient's unread count as of this message. */
  messageCreated(message: Message, conversation: Conversation, unreadOf: (email: string) => number): void;
  /** `readers`: the other members, told with messages_read. */
  conversationRead(conversation: Conversation, readerEmail: string, readAt: Date, lastReadSeq: number): void;
  typingChanged(conversationId: string, userEmail: string, to: string[], typing: boolean): void;
  /** `to`: the members to tell (conversation_created / conversation_updated carry the conversation). */
  conversationCreated(conversation: Conversation, to: string[]): void;
  conversationUpdated(conversation: Conversation, to: string[]): void;
  /** Members who left or were removed: conversation_removed, and their sockets leave the conversation's room. */
  conversationRemoved(conversationId: string, to: string[]): void;
  messageEdited(message: Message, to: string[]): void;
  messageDeleted(message: Message, to: string[]): void;
  reactionUpdated(message: Message, to: string[]): void;
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
  conversationCreated() {},
  conversationUpdated() {},
  conversationRemoved() {},
  messageEdited() {},
  messageDeleted() {},
  reactionUpdated() {},
  userUpdated() {},
};
