/**
 * Real traffic against the event schemas: a typed socket.io-client
 * (`Socket<ServerToClientEvents, ClientToServerEvents>`) goes through every
 * event, and every payload and ack the server sends is parsed with its strict
 * zod schema (unknown fields fail too), so the documented shapes are the real ones.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Socket } from "socket.io-client";
import type { z } from "zod";
// First: @hono/zod-openapi must extend zod before the domain schemas are built (zod 4 adds methods per instance).
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { AckFailureSchema, clientEvents, serverEvents } from "../../src/domain/event-schemas.ts";
import type { ClientToServerEvents, ServerToClientEvents } from "../../src/events.ts";
import { login, type TestUser } from "../helpers/api.ts";
import { closeAllClients, connectAs } from "../helpers/clients.ts";
import { waitFor } from "../helpers/wait.ts";

type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

let s: TestServer;
let alice: TestUser;
let bob: TestUser;
beforeAll(async () => {
  s = await startTestServer("eventtraffic");
  alice = await login(s, "alice@example.com", "Alice");
  bob = await login(s, "bob@example.com", "Bob");
});
afterAll(async () => {
  closeAllClients();
  await s.stopAndDrop();
});

const connect = async (u: TestUser) => (await connectAs(s, u.token)) as unknown as ChatSocket;
const check = (schema: z.ZodType, value: unknown) => {
  const r = schema.safeParse(value);
  expect(r.success ? [] : r.error.issues).toEqual([]);
};
function next<E extends keyof ServerToClientEvents>(socket: ChatSocket, event: E): Promise<unknown> {
  return waitFor(socket as never, event, 5000, `${event} on ${socket.id}`);
}
const okAck = (event: keyof typeof clientEvents, ack: unknown) => {
  check(clientEvents[event].ack, ack);
  return ack;
};

test("every event's payload and ack match the schemas of the AsyncAPI document and the client types", async () => {
  const a = await connect(alice);
  const b = await connect(bob);

  const gotNew = next(b, "new_message");
  const gotNote = next(b, "message_notification");
  const sent = await a.timeout(5000).emitWithAck("send_message", { to_email: bob.email, message: "hello", client_id: "c-1" });
  okAck("send_message", sent);
  if (!sent.ok) throw new Error("send failed");
  check(serverEvents.new_message.payload, await gotNew);
  check(serverEvents.message_notification.payload, await gotNote);
  const conversation_id = sent.message.conversation_id;

  okAck("join_conversation", await b.timeout(5000).emitWithAck("join_conversation", { conversation_id }));
  okAck("leave_conversation", await b.timeout(5000).emitWithAck("leave_conversation", { conversation_id }));

  const typing = next(a, "user_typing");
  okAck("typing_start", await b.timeout(5000).emitWithAck("typing_start", { conversation_id }));
  check(serverEvents.user_typing.payload, await typing);

  const marked = next(b, "marked_as_read");
  const read = next(a, "messages_read");
  okAck("mark_as_read", await b.timeout(5000).emitWithAck("mark_as_read", { conversation_id }));
  check(serverEvents.marked_as_read.payload, await marked);
  check(serverEvents.messages_read.payload, await read);

  const online = next(a, "online_users");
  const users = okAck("get_online_users", await a.timeout(5000).emitWithAck("get_online_users"));
  check(serverEvents.online_users.payload, await online);
  expect(users).toEqual({ ok: true, users: [bob.email] });

  const error = next(a, "error");
  // @ts-expect-error: deliberately invalid (the type test proves the types refuse it; here the server must too)
  const refused = await a.timeout(5000).emitWithAck("send_message", { to_email: 42, message: "" });
  check(AckFailureSchema, refused);
  check(serverEvents.error.payload, await error);

  const offline = next(a, "user_offline");
  b.disconnect();
  check(serverEvents.user_offline.payload, await offline);
  const cameBack = next(a, "user_online");
  await connect(bob);
  check(serverEvents.user_online.payload, await cameBack);
});
