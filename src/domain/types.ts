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

export interface Conversation {
  id: string;
  participants: [string, string];
  conversation_type: "direct";
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
  /** Per-participant unread counts keyed by email (built by the db layer, never stored keyed by email). */
  unread_count: Record<string, number>;
}

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
}
