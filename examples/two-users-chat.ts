/**
 * Watch two users chat through a running server:
 *   npm start                      # in one terminal
 *   npx bun examples/two-users-chat.ts [http://127.0.0.1:8000]
 * Logs both users in over REST, connects both with socket.io-client (default
 * transports: polling, then upgrade to websocket) and exchanges a few messages
 * with typing indicators, a read receipt and presence. Typed with the
 * server's event types (src/events.ts): payloads and acks are checked by tsc.
 */
import { io, type Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "../src/events.ts";

type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const base = process.argv[2] ?? process.env.CHAT_URL ?? "http://127.0.0.1:8000";

interface LoginResponse {
  access_token: string;
  user: { email: string; name: string };
}

async function login(email: string, name: string): Promise<LoginResponse> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, name }),
  });
  if (!res.ok) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as LoginResponse;
}

function connect(name: string, token: string): Promise<ChatSocket> {
  const socket: ChatSocket = io(base, { auth: { token } });
  const say = (what: string, data: unknown) => console.log(`[${name}] ${what}`, JSON.stringify(data));
  socket.on("new_message", (m) => say("new_message", `${m.sender_name}: ${m.message}`));
  socket.on("message_notification", (n) => say("message_notification", { unread: n.unread_count }));
  socket.on("user_typing", (d) => say("user_typing", d));
  socket.on("user_online", (d) => say("user_online", d));
  socket.on("user_offline", (d) => say("user_offline", d));
  socket.on("messages_read", (d) => say("messages_read", d));
  socket.on("error", (d) => say("error", d));
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

const alice = await login("alice@example.com", "Alice");
const bob = await login("bob@example.com", "Bob");
const bobSocket = await connect("bob", bob.access_token);
const aliceSocket = await connect("alice", alice.access_token);

const first = await aliceSocket.timeout(5000).emitWithAck("send_message", {
  to_email: bob.user.email,
  message: "Hi Bob! Lunch today?",
  message_type: "text",
  reply_to: null,
});
if (!first.ok) throw new Error(`send failed: ${first.error.code} ${first.error.message}`);
const conversationId = first.message.conversation_id;
await pause(300);
await bobSocket.timeout(5000).emitWithAck("typing_start", { conversation_id: conversationId });
await pause(500);
await bobSocket.timeout(5000).emitWithAck("typing_stop", { conversation_id: conversationId });
await bobSocket.timeout(5000).emitWithAck("send_message", {
  to_email: alice.user.email,
  message: "Sure, 12:30?",
  reply_to: first.message.id,
});
await bobSocket.timeout(5000).emitWithAck("mark_as_read", { conversation_id: conversationId });
await pause(300);
aliceSocket.disconnect();
await pause(300);
bobSocket.disconnect();
console.log("done");
