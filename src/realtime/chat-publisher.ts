/**
 * The domain's ChatPublisher on top of the Socket.IO layer. Every user has a
 * room `user:<email>` joined by all their sockets, so "every socket of both
 * participants exactly once" is one emit to two disjoint rooms, and each
 * frame is encoded once and published to the room's Bun topic. Every payload
 * `satisfies` its type from the event schemas, so a shape that drifts from the
 * AsyncAPI document and the client types fails the type check.
 */
import type { ServerPayloadOf as Payload } from "../events.ts";
import type { ChatPublisher } from "../domain/ports.ts";
import { messageView } from "../domain/views.ts";
import type { SocketIOServer } from "./socketio/server.ts";

export const userRoom = (email: string) => `user:${email}`;
export const conversationRoom = (id: string) => `conversation:${id}`;

export function createChatPublisher(io: SocketIOServer): ChatPublisher {
  return {
    messageCreated(message, conversation) {
      const view = messageView(message);
      const [a, b] = conversation.participants;
      const recipient = message.sender_email === a ? b : a;
      io.to([userRoom(a), userRoom(b)]).emit("new_message", view satisfies Payload<"new_message">);
      io.to(userRoom(recipient)).emit("message_notification", {
        conversation_id: message.conversation_id,
        sender_email: message.sender_email,
        sender_name: message.sender_name,
        message: view,
        unread_count: conversation.unread_count[recipient] ?? 0,
      } satisfies Payload<"message_notification">);
    },
    conversationRead(conversation, readerEmail, readAt) {
      const other = conversation.participants[0] === readerEmail ? conversation.participants[1] : conversation.participants[0];
      const read_at = readAt.toISOString();
      io.to(userRoom(readerEmail)).emit("marked_as_read", { conversation_id: conversation.id, unread_count: 0, read_at } satisfies Payload<"marked_as_read">);
      io.to(userRoom(other)).emit("messages_read", { conversation_id: conversation.id, reader_email: readerEmail, read_at } satisfies Payload<"messages_read">);
    },
    typingChanged(conversationId, userEmail, to, typing) {
      io.to(userRoom(to)).emit("user_typing", { user_email: userEmail, conversation_id: conversationId, typing } satisfies Payload<"user_typing">);
    },
    presenceChanged(email, online, lastSeen, audience) {
      if (audience.length === 0) return;
      const rooms = audience.map(userRoom);
      if (online) io.to(rooms).emit("user_online", { email } satisfies Payload<"user_online">);
      else io.to(rooms).emit("user_offline", { email, last_seen: lastSeen?.toISOString() ?? null } satisfies Payload<"user_offline">);
    },
    userUpdated(user, audience) {
      if (audience.length === 0) return;
      const { email, name, profile_image } = user;
      io.to(audience.map(userRoom)).emit("user_updated", { email, name, profile_image } satisfies Payload<"user_updated">);
    },
  };
}
