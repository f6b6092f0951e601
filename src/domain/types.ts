/**
 * The chat's entities as the API shows them. Ids are opaque strings here:
 * the database layer converts them (ObjectId never leaves src/db).
 */
export interface User {
  id: string;
  email: string;
  name: string;
  profile_image: string | null;
  is_online: boolean;
  last_seen: Date | null;
}

export type ConversationType = "direct" | "group";
export type Role = "owner" | "admin" | "member";

export interface Conversation {
  id: string;
  /** Direct: the sorted pair. Group: the members in join order (the longest-standing first). */
  participants: string[];
  conversation_type: ConversationType;
  /** Groups only (null for direct conversations). */
  title: string | null;
  /** Groups only: each member's role (null for direct conversations). */
  roles: Record<string, Role> | null;
  /** A group whose last member left: nobody can read or write it any more. */
  closed: boolean;
  /** Groups: bumped by every membership change (optimistic concurrency); 0 for direct conversations. */
  version: number;
  created_at: Date;
  last_message: string | null;
  last_message_time: Date | null;
  last_message_sender: string | null;
  /** last_message_time, or created_at before the first message: the list's order. */
  last_activity: Date;
  /** The highest seq handed out (seqs are unique and increasing; a few may stay unused). */
  last_seq: number;
  /** Messages stored in the conversation (costs no count query). */
  message_count: number;
  /**
   * Unread counts keyed by email (built by the db layer, never stored keyed by email). Direct: both
   * participants'. Group: only the reading member's own (computed from their read pointer), or empty.
   */
  unread_count: Record<string, number>;
}

/** A member's read pointer and the messages they sent after it (groups derive unread counts from these). */
export interface MemberState {
  user: string;
  joined_at: Date;
  last_read_seq: number;
  read_at: Date | null;
  own_since_read: number;
}

/** One of a user's memberships: the conversation and the user's state in it. */
export interface Membership extends MemberState {
  conversation_id: string;
}

export type Reactions = Record<string, string[]>;

export type MessageType = "text" | "image" | "file" | "audio" | "video" | "system";

export interface Message {
  id: string;
  conversation_id: string;
  sender_email: string;
  sender_name: string;
  message: string;
  message_type: MessageType;
  timestamp: Date;
  edited: boolean;
  edited_at: Date | null;
  reply_to: string | null;
  client_id: string | null;
  /** Position in the conversation, 1-based, strictly increasing: the order of record. */
  seq: number;
  /** A deleted message stays as a tombstone (text and reactions removed) so seqs and cursors stay stable. */
  deleted: boolean;
  /** emoji → the users who reacted with it, in reaction order. */
  reactions: Reactions;
}
