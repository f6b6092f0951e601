/**
 * Composition root: database → repositories → domain services → REST app and
 * realtime gateway → Bun.serve. Returns a handle that stops everything it started
 * (but not the database server, which the caller owns).
 */
import { createTokens } from "./auth/tokens.ts";
import type { Config } from "./config.ts";
import { createConversationsRepo } from "./db/conversations.repo.ts";
import { ensureIndexes } from "./db/indexes.ts";
import { createMessagesRepo } from "./db/messages.repo.ts";
import { connectDatabase, type Database } from "./db/mongo.ts";
import { createUsersRepo } from "./db/users.repo.ts";
import { createChatServices, type ChatServices } from "./domain/chat-services.ts";
import { createHttpApp, type HttpApp } from "./http/app.ts";
import type { Logger } from "./logger.ts";
import { attachChatGateway } from "./realtime/chat-gateway.ts";
import { createChatPublisher } from "./realtime/chat-publisher.ts";
import { createSocketIOServer, type SocketIOServer } from "./realtime/socketio/server.ts";
import pkg from "../package.json" with { type: "json" };

export interface RunningServer {
  url: string;
  port: number;
  app: HttpApp;
  io: SocketIOServer;
  db: Database;
  services: ChatServices;
  stop(): Promise<void>;
}

/** Bun's idle timeout is in seconds, at most 255; a polling GET may wait a whole ping interval. */
const idleTimeoutFor = (cfg: Config) => Math.min(255, Math.ceil((cfg.PING_INTERVAL_MS + cfg.PING_TIMEOUT_MS) / 1000) + 5);

export async function startServer(cfg: Config, mongoUrl: string, log: Logger): Promise<RunningServer> {
  const db = await connectDatabase(mongoUrl, cfg.DATABASE_NAME);
  try {
    await ensureIndexes(db.collections);
  } catch (err) {
    await db.close();
    throw err;
  }
  const services = createChatServices(
    {
      users: createUsersRepo(db.collections.users),
      conversations: createConversationsRepo(db.collections.conversations),
      messages: createMessagesRepo(db.collections.messages),
    },
    { searchLimit: cfg.SEARCH_RESULT_LIMIT, typingTtlMs: cfg.TYPING_TTL_MS, writeConcurrency: cfg.DB_WRITE_CONCURRENCY },
  );
  const stale = await services.presence.resetStale();
  if (stale > 0) log.info("cleared stale online flags", { users: stale });

  const tokens = createTokens({ secret: cfg.JWT_SECRET_KEY, algorithm: cfg.JWT_ALGORITHM, expireMinutes: cfg.JWT_EXPIRE_MINUTES });
  const io = createSocketIOServer({
    pingInterval: cfg.PING_INTERVAL_MS,
    pingTimeout: cfg.PING_TIMEOUT_MS,
    maxHttpBufferSize: cfg.MAX_HTTP_BUFFER_SIZE,
    cors: { origins: cfg.CORS_ORIGINS.includes("*") ? "*" : cfg.CORS_ORIGINS, credentials: true },
    allowedOrigins: cfg.CORS_ORIGINS.includes("*") ? "*" : cfg.CORS_ORIGINS,
    maxPacketsPerPayload: cfg.MAX_PACKETS_PER_POST,
    maxHandlersInFlight: cfg.MAX_HANDLERS_IN_FLIGHT,
    // Middlewares run again on a recovered socket: its token is checked anew after the gap.
    connectionStateRecovery:
      cfg.RECOVERY_WINDOW_MS > 0 ? { maxDisconnectionDuration: cfg.RECOVERY_WINDOW_MS, skipMiddlewares: false } : undefined,
    onError: (err, event) => log.error("socket handler failed", { event, err }),
  });
  services.setPublisher(createChatPublisher(io));
  attachChatGateway({
    io,
    services,
    tokens,
    log,
    messageMaxLength: cfg.MESSAGE_MAX_LENGTH,
    sendPer10s: cfg.RATE_SEND_PER_10S,
    typingPer10s: cfg.RATE_TYPING_PER_10S,
    presenceGraceMs: cfg.PRESENCE_GRACE_MS,
  });
  const app = createHttpApp({
    services,
    tokens,
    log,
    corsOrigins: cfg.CORS_ORIGINS,
    messageMaxLength: cfg.MESSAGE_MAX_LENGTH,
    messagesPageMax: cfg.MESSAGES_PAGE_MAX,
    system: { version: pkg.version, pingDb: () => db.ping(), connections: () => io.engine.clientsCount },
  });

  const server = Bun.serve({
    hostname: cfg.HOST,
    port: cfg.PORT,
    idleTimeout: idleTimeoutFor(cfg),
    fetch(req, srv) {
      // null: not an Engine.IO request; undefined: upgraded to a websocket.
      const r = io.handleRequest(req, srv);
      return r === null ? app.fetch(req) : r;
    },
    websocket: io.websocket,
    error(err) {
      log.error("unhandled request error", { err });
      return Response.json({ error: { code: "INTERNAL", message: "internal server error" } }, { status: 500 });
    },
  });
  io.attach(server);
  const port = server.port ?? cfg.PORT;
  const host = cfg.HOST === "0.0.0.0" ? "127.0.0.1" : cfg.HOST;

  let stopping: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    app,
    io,
    db,
    services,
    stop() {
      stopping ??= (async () => {
        await io.close();
        await server.stop(true);
        services.typing.close();
        services.presence.close();
        await db.close();
      })();
      return stopping;
    },
  };
}
