/**
 * The JSON shapes clients see (REST bodies and socket event payloads alike):
 * dates as ISO-8601 strings. One place, so both transports say the same thing.
 */
import type { SyncPage } from "./sync.service.ts";
import type { Conversation, Message, User } from "./types.ts";

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export const userView = (u: User) => ({
  id: u.id,
  email: u.email,
  name: u.name,
  profile_image: u.profile_image,
  is_online: u.is_online,
  last_seen: iso(u.last_seen),
});

/** What anyone may see of another user (search results): no presence, which only contacts see. */
export const publicUserView = (u: User) => ({ id: u.id, email: u.email, name: u.name, profile_image: u.profile_image });

/** A direct conversation keeps exactly its earlier shape; a group adds `title` and `roles`. */
export const conversationView = (c: Conversation) => ({
  id: c.id,
  participants: [...c.participants],
  conversation_type: c.conversation_type,
  ...(c.conversation_type === "group" ? { title: c.title ?? "", roles: { ...c.roles } } : {}),
  created_at: c.created_at.toISOString(),
  last_message: c.last_message,
  last_message_time: iso(c.last_message_time),
  last_message_sender: c.last_message_sender,
  unread_count: c.unread_count,
});

export const messageView = (m: Message) => ({
  id: m.id,
  conversation_id: m.conversation_id,
  sender_email: m.sender_email,
  sender_name: m.sender_name,
  message: m.message,
  message_type: m.message_type,
  timestamp: m.timestamp.toISOString(),
  edited: m.edited,
  edited_at: iso(m.edited_at),
  reply_to: m.reply_to,
  client_id: m.client_id,
  seq: m.seq,
  deleted: m.deleted,
  reactions: m.reactions,
});

/** One member's read pointer ("seen by"): message seq N is seen by the members whose last_read_seq ≥ N. */
export const readStateView = (r: { email: string; last_read_seq: number; read_at: Date | null }) => ({
  email: r.email,
  last_read_seq: r.last_read_seq,
  read_at: iso(r.read_at),
});

export const syncPageView = (p: SyncPage) => ({
  conversations: p.conversations.map(conversationView),
  messages: p.messages.map(messageView),
  has_more: p.has_more,
  cursor: p.cursor,
});

export type UserView = ReturnType<typeof userView>;
export type ConversationView = ReturnType<typeof conversationView>;
export type MessageView = ReturnType<typeof messageView>;
