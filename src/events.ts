/**
 * Typed Socket.IO events for TypeScript clients, derived from the zod schemas
 * in src/domain/event-schemas.ts (never written twice):
 *
 *   import { io, type Socket } from "socket.io-client";
 *   import type { ClientToServerEvents, ServerToClientEvents } from "chat-backend/src/events.ts";
 *   const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(url, { auth: { token } });
 *   socket.on("new_message", (m) => m.seq);                                   // m: MessageView
 *   const ack = await socket.timeout(5000).emitWithAck("send_message", { to_email, message: "hi" });
 *   if (ack.ok) ack.message.id; else ack.error.code;
 */
import type { z } from "zod";
import type { AckFailureSchema, clientEvents, serverEvents } from "./domain/event-schemas.ts";

type ServerEvents = typeof serverEvents;
type ClientEvents = typeof clientEvents;

export type AckFailure = z.infer<typeof AckFailureSchema>;
/** What the ack callback of a client event receives: `{ok: true, …}` or `{ok: false, error}`. */
export type AckOf<E extends keyof ClientEvents> = z.infer<ClientEvents[E]["ack"]> | AckFailure;
/** What a successful ack carries besides `ok: true` (what the gateway's handler returns). */
export type AckResult<E extends keyof ClientEvents> = Omit<z.infer<ClientEvents[E]["ack"]>, "ok">;
/** What a client sends (optional fields may be left out: the server fills their defaults). */
export type PayloadOf<E extends keyof ClientEvents> = ClientEvents[E]["payload"] extends z.ZodType
  ? z.input<ClientEvents[E]["payload"]>
  : never;
/** What a server event carries. */
export type ServerPayloadOf<E extends keyof ServerEvents> = z.infer<ServerEvents[E]["payload"]>;

type ServerEventsMap = { [E in keyof ServerEvents]: (payload: ServerPayloadOf<E>) => void };
type ClientEventsMap = {
  [E in keyof ClientEvents]: ClientEvents[E]["payload"] extends z.ZodType
    ? (payload: PayloadOf<E>, ack: (response: AckOf<E>) => void) => void
    : (ack: (response: AckOf<E>) => void) => void;
};

/** Events the server emits: `Socket<ServerToClientEvents, ClientToServerEvents>` in socket.io-client. */
export interface ServerToClientEvents extends ServerEventsMap {}
/**
 * Events a client emits, each with the ack callback the server answers. The callback is required in
 * the types (use `emitWithAck`, or pass one to `emit`): an optional one would make socket.io-client
 * type every `emitWithAck` answer as `any`.
 */
export interface ClientToServerEvents extends ClientEventsMap {}

export type MessageView = ServerPayloadOf<"new_message">;
export type SendMessagePayload = PayloadOf<"send_message">;
