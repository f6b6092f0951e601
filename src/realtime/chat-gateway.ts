/**
 * The only bridge between the Socket.IO layer and the chat domain:
 * authenticates connections (the same Authenticator as REST), caps sockets per
 * user, validates every event payload with the shared zod schemas, spends the
 * user's per-event budgets, calls the domain services and reports failures as
 * an `error` event (plus the ack error when the client asked for an ack). A
 * failing handler never closes the connection; an expired or revoked token does
 * (see socket-sessions.ts).
 */
import { z } from "zod";
import type { Authenticator } from "../auth/identity.ts";
import type { RevocationStore } from "../auth/revocations.ts";
import { bearerToken } from "../auth/tokens.ts";
import type { ChatServices } from "../domain/chat-services.ts";
import {
  ConversationRefSchema,
  editMessageEventSchema,
  issuesOf,
  MarkReadSchema,
  MessageRefSchema,
  ReactionEventSchema,
  sendMessageSchema,
  syncSchema,
} from "../domain/schemas.ts";
import { messageView, syncPageView } from "../domain/views.ts";
import { AppError, isAppError, isDatabaseUnavailable } from "../errors.ts";
import type { AckResult } from "../events.ts";
import type { RateLimiterFactory } from "../limits/rate-limiter.ts";
import type { Logger } from "../logger.ts";
import { conversationRoom, userRoom } from "./chat-publisher.ts";
import { ConnectionLimit } from "./connection-limit.ts";
import { InFlight } from "./in-flight.ts";
import { createEventBudgets, EVENT_BUDGET, type BudgetLimits } from "./rate-limiter.ts";
import { createRateLimitAudit, RateLimitedError, reportError, type Ack } from "./socket-errors.ts";
import { createSocketSessions, type SocketUser } from "./socket-sessions.ts";
import type { SocketIOServer } from "./socketio/server.ts";
import type { DisconnectReason, Socket } from "./socketio/socket.ts";

export interface ChatGatewayOptions {
  io: SocketIOServer;
  services: ChatServices;
  auth: Authenticator;
  revocations: RevocationStore;
  log: Logger;
  /** LOG_LEVEL=debug: log connects, disconnects and handler timings. */
  debug: boolean;
  messageMaxLength: number;
  budgets: BudgetLimits;
  /** Makes the per-user event limiters (default: in-process; cluster mode: shared through Redis). */
  limiters?: RateLimiterFactory;
  maxSocketsPerUser: number;
  tokenWarningMs: number;
  syncPageMax: number;
  /** How long a lost transport keeps its user online (a recovered or new socket of theirs takes its place). */
  presenceGraceMs: number;
  observer?: GatewayObserver;
}

/** Hook for metrics: every handled client event, its duration and its error code (null on success). */
export interface GatewayObserver {
  handled(event: string, seconds: number, errorCode: string | null): void;
}

export interface ChatGateway {
  /** Waits for running handlers and presence writes (graceful stop); false if some were still running after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean>;
  /** Stops the session timers. */
  close(): void;
}

type Handler = (user: SocketUser, payload: unknown, socket: Socket) => Promise<Record<string, unknown>>;

const LOST_TRANSPORT: ReadonlySet<DisconnectReason> = new Set(["transport close", "transport error", "ping timeout"]);

/** The token from `auth.token`, `?token=` or an `Authorization: Bearer` header, in that order. */
function handshakeToken(s: Socket): string | null {
  const auth = s.handshake.auth?.token;
  if (typeof auth === "string") return auth;
  const q = s.handshake.query.token;
  if (typeof q === "string" && q.length > 0) return q;
  return bearerToken(s.handshake.headers.authorization);
}

const connectError = (code: string, message = "unauthorized") => Object.assign(new Error(message), { data: { code } });

export function attachChatGateway(o: ChatGatewayOptions): ChatGateway {
  const { io, services, log } = o;
  const nsp = io.of("/");
  const inFlight = new InFlight();
  const sendSchema = sendMessageSchema(o.messageMaxLength);
  const editSchema = editMessageEventSchema(o.messageMaxLength);
  const budgets = createEventBudgets(o.budgets, o.limiters);
  const auditRateLimit = createRateLimitAudit(log);
  const sessions = createSocketSessions({ nsp, auth: o.auth, revocations: o.revocations, warnBeforeMs: o.tokenWarningMs, log });
  const limit = new ConnectionLimit(o.maxSocketsPerUser, (email) => nsp.roomSize(userRoom(email)));
  // The admitted socket's pending place, released once it joined its user's room (a WeakMap: nothing kept per socket).
  const releaseOnConnect = new WeakMap<Socket, () => void>();
  const syncPayload = syncSchema(o.syncPageMax);
  const parse = <T>(schema: z.ZodType<T>, payload: unknown): T => {
    const r = schema.safeParse(payload);
    if (!r.success) throw new AppError("VALIDATION_FAILED", "invalid payload", issuesOf(r.error));
    return r.data;
  };

  io.use(async (socket, next) => {
    let user: SocketUser;
    try {
      const identity = await o.auth.verify(handshakeToken(socket));
      const profile = await services.users.profile(identity.email);
      user = { email: identity.email, name: profile.name, jti: identity.jti, expiresAt: identity.expiresAt, warned: false, bucket: 0, socket };
    } catch (e) {
      const code = isAppError(e) && e.code !== "USER_NOT_FOUND" ? e.code : isDatabaseUnavailable(e) ? "DATABASE_UNAVAILABLE" : "UNAUTHORIZED";
      if (!isAppError(e)) log[code === "DATABASE_UNAVAILABLE" ? "warn" : "error"]("socket auth failed", { err: e });
      return next(connectError(code));
    }
    // Checked after the awaits, right before next(): the reserved place holds until the socket joins its user's room.
    const release = limit.admit(user.email);
    if (!release) {
      log.warn("audit: too many connections", { email: user.email, max: o.maxSocketsPerUser });
      return next(connectError("TOO_MANY_CONNECTIONS", "too many connections"));
    }
    socket.data.user = user;
    releaseOnConnect.set(socket, release);
    next();
  });

  const handlers: Record<string, Handler> = {
    async send_message(user, payload, socket) {
      // The socket id keeps this socket's sends in emit order.
      const r = await services.messages.send(user, parse(sendSchema, payload), socket.id);
      return { message: messageView(r.message), duplicate: !r.created } satisfies AckResult<"send_message">;
    },
    async join_conversation(user, payload, socket) {
      const { conversation_id } = parse(ConversationRefSchema, payload);
      await services.conversations.getForParticipant(conversation_id, user.email);
      socket.join(conversationRoom(conversation_id));
      return { conversation_id } satisfies AckResult<"join_conversation">;
    },
    async leave_conversation(user, payload, socket) {
      const { conversation_id } = parse(ConversationRefSchema, payload);
      await services.conversations.getForParticipant(conversation_id, user.email);
      socket.leave(conversationRoom(conversation_id));
      return { conversation_id } satisfies AckResult<"leave_conversation">;
    },
    async mark_as_read(user, payload) {
      const { conversation_id, up_to_seq } = parse(MarkReadSchema, payload);
      const r = await services.conversations.markRead(conversation_id, user.email, up_to_seq);
      return { conversation_id, unread_count: r.unread_count, read_at: r.read_at.toISOString(), last_read_seq: r.last_read_seq } satisfies AckResult<"mark_as_read">;
    },
    async edit_message(user, payload) {
      const { message_id, message } = parse(editSchema, payload);
      return { message: messageView(await services.lifecycle.edit(user.email, message_id, message)) } satisfies AckResult<"edit_message">;
    },
    async delete_message(user, payload) {
      const { message_id } = parse(MessageRefSchema, payload);
      return { message: messageView(await services.lifecycle.delete(user.email, message_id)) } satisfies AckResult<"delete_message">;
    },
    async add_reaction(user, payload) {
      const { message_id, emoji } = parse(ReactionEventSchema, payload);
      return { message: messageView(await services.lifecycle.react(user.email, message_id, emoji, true)) } satisfies AckResult<"add_reaction">;
    },
    async remove_reaction(user, payload) {
      const { message_id, emoji } = parse(ReactionEventSchema, payload);
      return { message: messageView(await services.lifecycle.react(user.email, message_id, emoji, false)) } satisfies AckResult<"remove_reaction">;
    },
    async typing_start(user, payload) {
      return typing(user, payload, true);
    },
    async typing_stop(user, payload) {
      return typing(user, payload, false);
    },
    async sync(user, payload) {
      const { since, limit } = parse(syncPayload, payload ?? {});
      return syncPageView(await services.sync.changes(user.email, since, limit)) satisfies AckResult<"sync">;
    },
    async get_online_users(user, _payload, socket) {
      const users = await services.presence.onlineContacts(user.email);
      socket.emit("online_users", { users });
      return { users } satisfies AckResult<"get_online_users">;
    },
    async refresh_token(user, payload) {
      return sessions.refresh(user, payload);
    },
  };

  async function typing(user: SocketUser, payload: unknown, on: boolean) {
    const { conversation_id } = parse(ConversationRefSchema, payload);
    await services.typing.set(conversation_id, user.email, on);
    return { conversation_id, typing: on } satisfies AckResult<"typing_start">;
  }

  /** Spends the event's budget (invalid attempts count too), then runs its handler. */
  async function run(handler: Handler, event: string, user: SocketUser, payload: unknown, socket: Socket) {
    const d = budgets.take(event, user.email);
    const decision = d instanceof Promise ? await d : d;
    if (decision && !decision.ok) {
      auditRateLimit(EVENT_BUDGET[event]!, user.email, decision.resetMs);
      throw new RateLimitedError(decision.resetMs);
    }
    return handler(user, payload, socket);
  }

  io.on("connection", (socket) => {
    const user = socket.data.user as SocketUser;
    // A recovered socket has its rooms back; its presence call ends the grace of the socket it resumes.
    if (!socket.recovered) socket.join(userRoom(user.email));
    releaseOnConnect.get(socket)?.();
    releaseOnConnect.delete(socket);
    sessions.start(user);
    log.info("socket connected", { sid: socket.id, email: user.email, transport: socket.session.transport, recovered: socket.recovered });
    inFlight.track(services.presence.connected(user.email).catch((err) => log.error("presence update failed", { sid: socket.id, err })));

    // One dispatcher per socket instead of a closure per event: idle sockets stay small.
    socket.onAny((event: string, ...args: unknown[]) => {
      const handler = Object.hasOwn(handlers, event) ? handlers[event] : undefined;
      if (!handler) return;
      const ack = typeof args[args.length - 1] === "function" ? (args.pop() as Ack) : undefined;
      const started = performance.now();
      // Returned so the protocol layer counts the call in flight until it is done (backpressure);
      // tracked so a graceful stop waits for it.
      return inFlight.track(run(handler, event, user, args[0], socket)).then(
        (result) => {
          const ms = performance.now() - started;
          o.observer?.handled(event, ms / 1000, null);
          if (o.debug) log.debug("socket event", { event, sid: socket.id, ok: true, ms: +ms.toFixed(2) });
          ack?.({ ok: true, ...result });
        },
        (err: unknown) => {
          const ms = performance.now() - started;
          o.observer?.handled(event, ms / 1000, isAppError(err) ? err.code : isDatabaseUnavailable(err) ? "DATABASE_UNAVAILABLE" : "INTERNAL");
          if (o.debug) log.debug("socket event", { event, sid: socket.id, ok: false, ms: +ms.toFixed(2) });
          reportError(log, socket, event, err, ack);
        },
      );
    });

    socket.on("disconnect", (reason: DisconnectReason) => {
      sessions.end(user);
      log.info("socket disconnected", { sid: socket.id, email: user.email, reason });
      // Only a lost transport may come back; the client's DISCONNECT (or the server's) ends presence at once.
      const grace = LOST_TRANSPORT.has(reason) ? o.presenceGraceMs : 0;
      inFlight.track(
        services.presence
          .disconnected(user.email, grace)
          .then(() => {
            if (!services.presence.isOnline(user.email)) services.typing.clearUser(user.email);
          })
          .catch((err) => log.error("presence update failed", { sid: socket.id, err })),
      );
    });
  });

  return { drain: (timeoutMs) => inFlight.drain(timeoutMs), close: () => sessions.close() };
}
