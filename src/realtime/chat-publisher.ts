/**
 * The domain's ChatPublisher on top of the Socket.IO layer. Every user has a
 * room `user:<email>` joined by all their sockets, so "every socket of every
 * member exactly once" is one emit to the union of the members' disjoint
 * rooms, and each frame is encoded once and published to the rooms' Bun
 * topics. message_notification differs per recipient (their unread count):
 * recipients with the same count share one frame, so a group message costs
 * one encode per distinct count, not per member. Every payload `satisfies`
 * its type from the event schemas, so a shape that drifts from the AsyncAPI
 * document and the client types fails the type check.
 */
import type { ServerPayloadOf as Payload } from "../events.ts";
import type { ChatPublisher } from "../domain/ports.ts";
import { conversationView, messageView } from "../domain/views.ts";
import type { SocketIOServer } from "./socketio/server.ts";

export const userRoom = (email: string) => `user:${email}`;
export const conversationRoom = (id: string) => `conversation:${id}`;

export function createChatPublisher(io: SocketIOServer): ChatPublisher {
  const rooms = (emails: readonly string[]) => emails.map(userRoom);
  /**
   * The sockets of these users, or null for nobody: `io.to([])` would mean every socket of the namespace, so an
   * empty audience must never reach it.
   */
  const users = (emails: readonly string[]) => (emails.length === 0 ? null : io.to(rooms(emails)));
  return {
    messageCreated(message, conversation, unreadOf) {
      const view = messageView(message);
      users(conversation.participants)?.emit("new_message", view satisfies Payload<"new_message">);
      const byCount = new Map<number, string[]>();
      for (const member of conversation.participants) {
        if (member === message.sender_email) continue;
        const n = unreadOf(member);
        const list = byCount.get(n);
        if (list) list.push(userRoom(member));
        else byCount.set(n, [userRoom(member)]);
      }
      for (const [unread_count, to] of byCount) {
        io.to(to).emit("message_notification", {
          conversation_id: message.conversation_id,
          sender_email: message.sender_email,
          sender_name: message.sender_name,
          message: view,
          unread_count,
        } satisfies Payload<"message_notification">);
      }
    },
    conversationRead(conversation, readerEmail, readAt, lastReadSeq) {
      const read_at = readAt.toISOString();
      const unread_count = conversation.unread_count[readerEmail] ?? 0;
      io.to(userRoom(readerEmail)).emit("marked_as_read", {
        conversation_id: conversation.id,
        unread_count,
        read_at,
        last_read_seq: lastReadSeq,
      } satisfies Payload<"marked_as_read">);
      users(conversation.participants.filter((p) => p !== readerEmail))?.emit("messages_read", {
        conversation_id: conversation.id,
        reader_email: readerEmail,
        read_at,
        last_read_seq: lastReadSeq,
      } satisfies Payload<"messages_read">);
    },
    typingChanged(conversationId, userEmail, to, typing) {
      users(to)?.emit("user_typing", { user_email: userEmail, conversation_id: conversationId, typing } satisfies Payload<"user_typing">);
    },
    presenceChanged(email, online, lastSeen, audience) {
      const to = users(audience);
      if (online) to?.emit("user_online", { email } satisfies Payload<"user_online">);
      else to?.emit("user_offline", { email, last_seen: lastSeen?.toISOString() ?? null } satisfies Payload<"user_offline">);
    },
    conversationCreated(conversation, to) {
      users(to)?.emit("conversation_created", { conversation: conversationView(conversation) } satisfies Payload<"conversation_created">);
    },
    conversationUpdated(conversation, to) {
      users(to)?.emit("conversation_updated", { conversation: conversationView(conversation) } satisfies Payload<"conversation_updated">);
    },
    conversationRemoved(conversationId, to) {
      if (to.length === 0) return;
      users(to)?.emit("conversation_removed", { conversation_id: conversationId } satisfies Payload<"conversation_removed">);
      // From now on they receive nothing of it: also not through the conversation's room.
      io.in(rooms(to)).socketsLeave(conversationRoom(conversationId));
    },
    messageEdited(message, to) {
      users(to)?.emit("message_edited", { message: messageView(message) } satisfies Payload<"message_edited">);
    },
    messageDeleted(message, to) {
      users(to)?.emit("message_deleted", { id: message.id, conversation_id: message.conversation_id } satisfies Payload<"message_deleted">);
    },
    reactionUpdated(message, to) {
      users(to)?.emit("reaction_updated", {
        message_id: message.id,
        conversation_id: message.conversation_id,
        reactions: message.reactions,
      } satisfies Payload<"reaction_updated">);
    },
    userUpdated(user, audience) {
      const { email, name, profile_image } = user;
      users(audience)?.emit("user_updated", { email, name, profile_image } satisfies Payload<"user_updated">);
    },
  };
}
