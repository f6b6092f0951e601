/**
 * The Socket.IO events of the chat, as zod schemas: what clients send, what
 * the server acknowledges and what it emits. One source of truth for the
 * AsyncAPI document (/asyncapi.json), the TypeScript client types
 * (src/events.ts) and the tests that check real traffic against them.
 * Client payloads reuse the input rules of schemas.ts, so the gateway
 * validates exactly what is documented.
 */
import { z } from "zod";
import { ERROR_STATUS, type ErrorCode } from "../errors.ts";
import {
  ConversationRefSchema,
  editMessageEventSchema,
  MarkReadSchema,
  MESSAGE_TYPES,
  MessageRefSchema,
  ReactionEventSchema,
  ROLES,
  sendMessageSchema,
  syncSchema,
} from "./schemas.ts";

const IsoDateSchema = z.iso.datetime().describe("ISO-8601 UTC timestamp");
const ErrorCodeSchema = z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]);

export const ErrorInfoSchema = z.strictObject({
  code: ErrorCodeSchema,
  message: z.string(),
  details: z.unknown().optional(),
  retry_after_ms: z.number().int().min(0).optional().describe("RATE_LIMITED: when the budget has room again"),
});

export const MessageViewSchema = z
  .strictObject({
    id: z.string(),
    conversation_id: z.string(),
    sender_email: z.string(),
    sender_name: z.string(),
    message: z.string(),
    message_type: z.enum(MESSAGE_TYPES),
    timestamp: IsoDateSchema,
    edited: z.boolean(),
    edited_at: IsoDateSchema.nullable(),
    reply_to: z.string().nullable(),
    client_id: z.string().nullable(),
    seq: z.number().int().min(1).describe("position in the conversation, strictly increasing"),
    deleted: z.boolean().describe("a tombstone: text and reactions removed, seq kept"),
    reactions: z.record(z.string(), z.array(z.string())).describe("emoji → the users who reacted with it"),
  })
  .describe("A stored message");

export const ConversationViewSchema = z
  .strictObject({
    id: z.string(),
    participants: z.array(z.string()).describe("direct: the sorted pair; group: the members in join order"),
    conversation_type: z.enum(["direct", "group"]),
    title: z.string().optional().describe("groups only"),
    roles: z.record(z.string(), z.enum(ROLES)).optional().describe("groups only: each member's role"),
    created_at: IsoDateSchema,
    last_message: z.string().nullable(),
    last_message_time: IsoDateSchema.nullable(),
    last_message_sender: z.string().nullable(),
    unread_count: z.record(z.string(), z.number().int()).describe("direct: both participants'; group: only yours"),
  })
  .describe("A conversation");

// ---- server → client -------------------------------------------------------------------------

export const MessageNotificationSchema = z.strictObject({
  conversation_id: z.string(),
  sender_email: z.string(),
  sender_name: z.string(),
  message: MessageViewSchema,
  unread_count: z.number().int().min(0).describe("the recipient's unread count in this conversation, this message included"),
});
export const UserOnlineSchema = z.strictObject({ email: z.string() });
export const UserOfflineSchema = z.strictObject({ email: z.string(), last_seen: IsoDateSchema.nullable() });
export const OnlineUsersSchema = z.strictObject({ users: z.array(z.string()) });
export const UserTypingSchema = z.strictObject({ user_email: z.string(), conversation_id: z.string(), typing: z.boolean() });
const LastReadSeqSchema = z.number().int().min(0).describe("every message up to this seq counts as read");
export const MarkedAsReadSchema = z.strictObject({
  conversation_id: z.string(),
  unread_count: z.number().int().min(0).describe("0 after reading everything; after a read up to a seq, what is left"),
  read_at: IsoDateSchema,
  last_read_seq: LastReadSeqSchema,
});
export const MessagesReadSchema = z.strictObject({
  conversation_id: z.string(),
  reader_email: z.string(),
  read_at: IsoDateSchema,
  last_read_seq: LastReadSeqSchema,
});
export const ConversationEventSchema = z.strictObject({ conversation: ConversationViewSchema });
export const ConversationRemovedSchema = z.strictObject({ conversation_id: z.string() });
export const MessageEditedSchema = z.strictObject({ message: MessageViewSchema });
export const MessageDeletedSchema = z.strictObject({ id: z.string(), conversation_id: z.string() });
export const ReactionUpdatedSchema = z.strictObject({
  message_id: z.string(),
  conversation_id: z.string(),
  reactions: z.record(z.string(), z.array(z.string())),
});
export const ErrorEventSchema = z.strictObject({
  message: z.string(),
  code: ErrorCodeSchema,
  event: z.string().optional().describe("the client event that failed; absent when the session itself ends (TOKEN_EXPIRED, a revoked token)"),
  details: z.unknown().optional(),
  retry_after_ms: z.number().int().min(0).optional().describe("RATE_LIMITED: when the budget has room again"),
});
export const TokenExpiringSchema = z.strictObject({ expires_at: IsoDateSchema });
export const UserUpdatedSchema = z.strictObject({ email: z.string(), name: z.string(), profile_image: z.string().nullable() });

export interface ServerEventSpec {
  payload: z.ZodType;
  summary: string;
  /** Who receives it: the AsyncAPI document says so for every event. */
  audience: string;
}

export const serverEvents = {
  new_message: {
    payload: MessageViewSchema,
    summary: "A message was stored",
    audience: "every socket of every member, exactly once, after it is stored",
  },
  message_notification: {
    payload: MessageNotificationSchema,
    summary: "A message for you, with your unread count",
    audience: "the sockets of every member but the sender, each with their own unread_count",
  },
  user_online: {
    payload: UserOnlineSchema,
    summary: "A contact came online",
    audience: "users who share a conversation with that user, when the user's first socket connects",
  },
  user_offline: {
    payload: UserOfflineSchema,
    summary: "A contact went offline",
    audience: "the same audience as user_online, when the user's last socket closes",
  },
  online_users: {
    payload: OnlineUsersSchema,
    summary: "The online users among your contacts",
    audience: "the socket that sent get_online_users",
  },
  user_typing: {
    payload: UserTypingSchema,
    summary: "Another member started or stopped typing",
    audience: "the other members only; typing:false also when the indicator expires or the typist's last socket closes",
  },
  marked_as_read: {
    payload: MarkedAsReadSchema,
    summary: "You read a conversation (from any of your sockets or REST)",
    audience: "every socket of the reader",
  },
  messages_read: {
    payload: MessagesReadSchema,
    summary: "A member moved their read pointer (\"seen by\")",
    audience: "every socket of the other members",
  },
  conversation_created: {
    payload: ConversationEventSchema,
    summary: "You are a member of a new group (created, or you were added)",
    audience: "every socket of the members concerned",
  },
  conversation_updated: {
    payload: ConversationEventSchema,
    summary: "A group's title, members or roles changed",
    audience: "every socket of the group's members (before an addition; after a removal)",
  },
  conversation_removed: {
    payload: ConversationRemovedSchema,
    summary: "You left or were removed: from now on you receive nothing of it and cannot read it",
    audience: "every socket of the member who left or was removed (they also leave the conversation's room)",
  },
  message_edited: {
    payload: MessageEditedSchema,
    summary: "A message's text changed (edited: true, edited_at)",
    audience: "every socket of every member",
  },
  message_deleted: {
    payload: MessageDeletedSchema,
    summary: "A message was deleted: history keeps a tombstone (deleted: true) at its seq",
    audience: "every socket of every member",
  },
  reaction_updated: {
    payload: ReactionUpdatedSchema,
    summary: "A message's reactions changed",
    audience: "every socket of every member",
  },
  user_updated: {
    payload: UserUpdatedSchema,
    summary: "A contact's name or profile image changed (PATCH /api/users/me, or the host's admin API)",
    audience: "users who share a conversation with that user",
  },
  token_expiring: {
    payload: TokenExpiringSchema,
    summary: "Your token expires soon: answer refresh_token with a fresh one, or the server disconnects you at expires_at",
    audience: "each socket whose token expires within TOKEN_EXPIRY_WARNING_SECONDS",
  },
  error: {
    payload: ErrorEventSchema,
    summary: "A client event failed (the connection stays usable); or, without `event`, the session ends (TOKEN_EXPIRED, revoked token) and the server disconnects the socket",
    audience: "the socket whose event failed, or whose token expired or was revoked",
  },
} as const satisfies Record<string, ServerEventSpec>;

// ---- client → server (with their acks) -------------------------------------------------------

const ackOk = <T extends z.ZodRawShape>(shape: T) => z.strictObject({ ok: z.literal(true), ...shape });
export const AckFailureSchema = z.strictObject({ ok: z.literal(false), error: ErrorInfoSchema });

export const SendMessageAckSchema = ackOk({ message: MessageViewSchema, duplicate: z.boolean() });
export const ConversationAckSchema = ackOk({ conversation_id: z.string() });
export const MarkAsReadAckSchema = ackOk({
  conversation_id: z.string(),
  unread_count: z.number().int().min(0).describe("your unread count after the read"),
  read_at: IsoDateSchema,
  last_read_seq: z.number().int().min(0).describe("every message up to this seq counts as read"),
});
export const TypingAckSchema = ackOk({ conversation_id: z.string(), typing: z.boolean() });
export const OnlineUsersAckSchema = ackOk({ users: z.array(z.string()) });
export const RefreshTokenAckSchema = ackOk({ expires_at: IsoDateSchema });
export const MessageAckSchema = ackOk({ message: MessageViewSchema });
export const SyncAckSchema = ackOk({
  conversations: z.array(ConversationViewSchema).describe("conversations with activity since the cursor, current state"),
  messages: z.array(MessageViewSchema).describe("their new messages, oldest conversation first, each by seq; may repeat messages you have (dedupe by id)"),
  has_more: z.boolean(),
  cursor: z.string().describe("opaque: pass as `since` next time"),
});

export interface ClientEventSpec {
  /** null: the event takes no payload (only the optional ack callback). */
  payload: z.ZodType | null;
  ack: z.ZodType;
  summary: string;
}

/** The documented send_message payload; the gateway builds the same schema with the configured length cap. */
export const SendMessagePayloadSchema = sendMessageSchema(10_000);

export const clientEvents = {
  send_message: {
    payload: SendMessagePayloadSchema,
    ack: SendMessageAckSchema,
    summary: "Send a message: either to_email (direct; creates the conversation on the first one) or conversation_id (any conversation of yours, groups too); both or neither is refused. Idempotent with client_id. The message length cap is MESSAGE_MAX_LENGTH (10,000 by default)",
  },
  join_conversation: { payload: ConversationRefSchema, ack: ConversationAckSchema, summary: "Join a conversation's room (participants only)" },
  leave_conversation: { payload: ConversationRefSchema, ack: ConversationAckSchema, summary: "Leave a conversation's room" },
  mark_as_read: {
    payload: MarkReadSchema,
    ack: MarkAsReadAckSchema,
    summary: "Move your read pointer: up to up_to_seq, or (without it) everything; never backwards",
  },
  edit_message: { payload: editMessageEventSchema(10_000), ack: MessageAckSchema, summary: "Edit your own message (sender only)" },
  delete_message: {
    payload: MessageRefSchema,
    ack: MessageAckSchema,
    summary: "Delete a message (the sender, or an owner/admin of the group); history keeps a tombstone",
  },
  add_reaction: {
    payload: ReactionEventSchema,
    ack: MessageAckSchema,
    summary: "React with one emoji or a :short_code: (≤ 32 characters); at most 20 distinct reactions per message; idempotent",
  },
  remove_reaction: { payload: ReactionEventSchema, ack: MessageAckSchema, summary: "Take your reaction back; idempotent" },
  typing_start: { payload: ConversationRefSchema, ack: TypingAckSchema, summary: "Start the typing indicator (members only; the other members are told)" },
  typing_stop: { payload: ConversationRefSchema, ack: TypingAckSchema, summary: "Stop the typing indicator" },
  get_online_users: { payload: null, ack: OnlineUsersAckSchema, summary: "Ask for your online contacts (also emitted as online_users)" },
  sync: {
    payload: syncSchema(500),
    ack: SyncAckSchema,
    summary: "What changed since a cursor (as GET /api/sync): for a client back after a longer absence than connection-state recovery covers. limit ≤ SYNC_PAGE_MAX (500 by default)",
  },
  refresh_token: {
    payload: z.strictObject({ token: z.string() }),
    ack: RefreshTokenAckSchema,
    summary: "Replace the socket's token by a fresh one of the same user (after token_expiring)",
  },
} as const satisfies Record<string, ClientEventSpec>;
