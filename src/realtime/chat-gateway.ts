/**
 * The only bridge between the Socket.IO layer and the chat domain:
 * authenticates connections, validates every event payload with the shared
 * zod schemas, applies per-socket rate limits, calls the domain services and
 * reports failures as an `error` event (plus the ack error when the client
 * asked for an ack). A failing handler never closes the connection.
 */
import { z } from "zod";
import { bearerToken, type Tokens } from "../auth/tokens.ts";
import type { ChatServices } from "../domain/chat-services.ts";
import { ConversationRefSchema, issuesOf, sendMessageSchema } from "../domain/schemas.ts";
import { messageView } from "../domain/views.ts";
import { AppError, isAppError } from "../errors.ts";
import type { AckResult } from "../events.ts";
import type { Logger } from "../logger.ts";
import { conversationRoom, userRoom } from "./chat-publisher.ts";
import { InFlight } from "./in-flight.ts";
import { RateWindow } from "./rate-limiter.ts";
import type { SocketIOServer } from "./socketio/server.ts";
import type { Socket } from "./socketio/socket.ts";

export interface ChatGatewayOptions {
  io: SocketIOServer;
  services: ChatServices;
  tokens: Tokens;
  log: Logger;
  messageMaxLength: number;
  sendPer10s: number;
  typingPer10s: number;
  observer?: GatewayObserver;
}

/** Hook for metrics: every handled client event, its duration and its error code (null on success). */
export interface GatewayObserver {
  handled(event: string, seconds: number, errorCode: string | null): void;
}

interface SocketUser {
  email: string;
  name: string;
  sendLimit: RateWindow;
  typingLimit: RateWindow;
}

type Ack = (response: unknown) => void;
type Handler = (user: SocketUser, payload: unknown, socket: Socket) => Promise<Record<string, unknown>>;

const WINDOW_MS = 10_000;

/** The token from `auth.token`, `?token=` or an `Authorization: Bearer` header, in that order. */
function handshakeToken(s: Socket): string | null {
  const auth = s.handshake.auth?.token;
  if (typeof auth === "string") return auth;
  const q = s.handshake.query.token;
  if (typeof q === "string" && q.length > 0) return q;
  return bearerToken(s.handshake.headers.authorization);
}

export interface ChatGateway {
  /** Waits for running handlers and presence writes (graceful stop); false if some were still running after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean>;
}

export function attachChatGateway(o: ChatGatewayOptions): ChatGateway {
  const { io, services, log } = o;
  const inFlight = new InFlight();
  const sendSchema = sendMessageSchema(o.messageMaxLength);
  const parse = <T>(schema: z.ZodType<T>, payload: unknown): T => {
    const r = schema.safeParse(payload);
    if (!r.success) throw new AppError("VALIDATION_FAILED", "invalid payload", issuesOf(r.error));
    return r.data;
  };

  io.use(async (socket, next) => {
    try {
      const email = await o.tokens.verify(handshakeToken(socket));
      const user = await services.users.profile(email);
      socket.data.user = {
        email,
        name: user.name,
        sendLimit: new RateWindow(o.sendPer10s, WINDOW_MS),
        typingLimit: new RateWindow(o.typingPer10s, WINDOW_MS),
      } satisfies SocketUser;
      next();
    } catch (e) {
      const code = isAppError(e) && e.code !== "USER_NOT_FOUND" ? e.code : "UNAUTHORIZED";
      if (!isAppError(e)) log.error("socket auth failed unexpectedly", { sid: socket.id, err: e });
      next(Object.assign(new Error("unauthorized"), { data: { code } }));
    }
  });

  const handlers: Record<string, Handler> = {
    async send_message(user, payload) {
      if (!user.sendLimit.take()) throw new AppError("RATE_LIMITED", "rate limited");
      const r = await services.messages.send(user, parse(sendSchema, payload));
      return { message: messageView(r.message), duplicate: !r.created } satisfies AckResult<"send_message">;
    },
    async join_conversation(user, payload, socket) {
      const { conversation_id } = parse(ConversationRefSchema, payload);
      await services.conversations.getForParticipant(conversation_id, user.email);
      socket.join(conversationRoom(conversation_id));
      return { conversation_id } satisfies AckResult<"join_conversation">;
    },
    async leave_conversation(_user, payload, socket) {
      const { conversation_id } = parse(ConversationRefSchema, payload);
      socket.leave(conversationRoom(conversation_id));
      return { conversation_id } satisfies AckResult<"leave_conversation">;
    },
    async mark_as_read(user, payload) {
      const { conversation_id } = parse(ConversationRefSchema, payload);
      const { read_at } = await services.conversations.markRead(conversation_id, user.email);
      return { conversation_id, read_at: read_at.toISOString() } satisfies AckResult<"mark_as_read">;
    },
    async typing_start(user, payload) {
      return typing(user, payload, true);
    },
    async typing_stop(user, payload) {
      return typing(user, payload, false);
    },
    async get_online_users(user, _payload, socket) {
      const users = await services.presence.onlineContacts(user.email);
      socket.emit("online_users", { users });
      return { users } satisfies AckResult<"get_online_users">;
    },
  };

  async function typing(user: SocketUser, payload: unknown, on: boolean) {
    if (!user.typingLimit.take()) throw new AppError("RATE_LIMITED", "rate limited");
    const { conversation_id } = parse(ConversationRefSchema, payload);
    await services.typing.set(conversation_id, user.email, on);
    return { conversation_id, typing: on } satisfies AckResult<"typing_start" | "typing_stop">;
  }

  io.on("connection", (socket) => {
    const user = socket.data.user as SocketUser;
    socket.join(userRoom(user.email));
    log.info("socket connected", { sid: socket.id, transport: socket.session.transport });
    inFlight.track(services.presence.connected(user.email).catch((err) => log.error("presence update failed", { sid: socket.id, err })));

    // One dispatcher per socket instead of a closure per event: idle sockets stay small.
    socket.onAny((event: string, ...args: unknown[]) => {
      const handler = Object.hasOwn(handlers, event) ? handlers[event] : undefined;
      if (!handler) return;
      const ack = typeof args[args.length - 1] === "function" ? (args.pop() as Ack) : undefined;
      const started = performance.now();
      inFlight.track(handler(user, args[0], socket)).then(
        (result) => {
          o.observer?.handled(event, (performance.now() - started) / 1000, null);
          ack?.({ ok: true, ...result });
        },
        (err: unknown) => {
          o.observer?.handled(event, (performance.now() - started) / 1000, isAppError(err) ? err.code : "INTERNAL");
          reportError(socket, event, err, ack);
        },
      );
    });

    socket.on("disconnect", (reason: string) => {
      log.info("socket disconnected", { sid: socket.id, reason });
      inFlight.track(
        services.presence
          .disconnected(user.email)
          .then(() => {
            if (!services.presence.isOnline(user.email)) services.typing.clearUser(user.email);
          })
          .catch((err) => log.error("presence update failed", { sid: socket.id, err })),
      );
    });
  });

  function reportError(socket: Socket, event: string, err: unknown, ack?: Ack) {
    let error: { code: string; message: string; details?: unknown };
    if (isAppError(err)) {
      error = err.toJSON();
    } else {
      log.error("socket handler failed", { sid: socket.id, event, err });
      error = { code: "INTERNAL", message: "internal server error" };
    }
    socket.emit("error", { message: error.message, code: error.code, event, ...(error.details ? { details: error.details } : {}) });
    ack?.({ ok: false, error });
  }

  return { drain: (timeoutMs) => inFlight.drain(timeoutMs) };
}
