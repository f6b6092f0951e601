/**
 * Type test (checked by `tsc --noEmit`, which CI runs; never executed): the
 * client types of src/events.ts plug into socket.io-client's generics, follow
 * the zod schemas, and match what the server actually builds. Every
 * `@ts-expect-error` line must stay an error: if a payload changes without the
 * types (or the types without the payload), tsc fails here.
 */
import { io, type Socket } from "socket.io-client";
import type { z } from "zod";
import type { MessageViewSchema, SendMessageAckSchema } from "../../src/domain/event-schemas.ts";
import type { MessageView as ServerMessageView } from "../../src/domain/views.ts";
import type { AckOf, ClientToServerEvents, MessageView, ServerToClientEvents } from "../../src/events.ts";

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same = <A, B>(ok: Same<A, B>) => ok;

// The server's messageView() builds exactly the documented shape.
same<ServerMessageView, z.infer<typeof MessageViewSchema>>(true);
same<MessageView, ServerMessageView>(true);
same<Extract<AckOf<"send_message">, { ok: true }>, z.infer<typeof SendMessageAckSchema>>(true);

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io("http://127.0.0.1:8000", { autoConnect: false });

socket.on("new_message", (m) => {
  const seq: number = m.seq;
  const when: string = m.timestamp;
  // @ts-expect-error: a message has no `body` field
  void m.body;
  // @ts-expect-error: seq is a number
  const s: string = m.seq;
  void [seq, when, s];
});
socket.on("message_notification", (n) => void (n.unread_count satisfies number));
socket.on("user_offline", (u) => void (u.last_seen satisfies string | null));
socket.on("marked_as_read", (r) => void (r.unread_count satisfies number, r.last_read_seq satisfies number));
socket.on("conversation_removed", (r) => void (r.conversation_id satisfies string));
socket.on("reaction_updated", (r) => void (r.reactions satisfies Record<string, string[]>));
socket.on("error", (e) => void (e.event satisfies string | undefined));
socket.on("token_expiring", (t) => void (t.expires_at satisfies string));
// @ts-expect-error: no such server event
socket.on("new_messages", () => {});
// @ts-expect-error: user_typing carries user_email, not email
socket.on("user_typing", (t: { email: string }) => void t);

export async function clientCalls(conversation_id: string): Promise<void> {
  const ack = await socket.timeout(5000).emitWithAck("send_message", { to_email: "bob@example.com", message: "hi" });
  if (ack.ok) {
    const id: string = ack.message.id;
    const dup: boolean = ack.duplicate;
    void [id, dup];
  } else {
    const code: string = ack.error.code;
    void code;
  }
  const read = await socket.emitWithAck("mark_as_read", { conversation_id });
  const partial = await socket.emitWithAck("mark_as_read", { conversation_id, up_to_seq: 3 });
  if (partial.ok) void (partial.unread_count satisfies number);
  const inGroup = await socket.emitWithAck("send_message", { conversation_id, message: "hi all" });
  if (inGroup.ok) void (inGroup.message.reactions satisfies Record<string, string[]>);
  const edited = await socket.emitWithAck("edit_message", { message_id: conversation_id, message: "fixed" });
  if (edited.ok) void (edited.message.edited satisfies boolean);
  await socket.emitWithAck("add_reaction", { message_id: conversation_id, emoji: "👍" });
  // @ts-expect-error: a reaction needs its emoji
  await socket.emitWithAck("remove_reaction", { message_id: conversation_id });
  if (read.ok) void (read.read_at satisfies string);
  const online = await socket.emitWithAck("get_online_users");
  if (online.ok) online.users.map((u) => u.toLowerCase());
  socket.emit("typing_start", { conversation_id }, (r) => void (r.ok && (r.typing satisfies boolean)));

  // @ts-expect-error: send_message needs a message
  await socket.emitWithAck("send_message", { to_email: "b@example.com" });
  // @ts-expect-error: message_type is one of the client types ("system" is the server's)
  await socket.emitWithAck("send_message", { to_email: "b@example.com", message: "hi", message_type: "system" });
  // @ts-expect-error: typing events take a conversation_id
  await socket.emitWithAck("typing_start", { id: conversation_id });
  // @ts-expect-error: no such client event
  await socket.emitWithAck("send_messages", {});
}
