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
import { exposeMetrics } from "./metrics/exposure.ts";
import { createMetrics, type Metrics } from "./metrics/metrics.ts";
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
  metrics: Metrics;
  /** Port of the dedicated /metrics listener (METRICS_PORT), if any. */
  metricsPort?: number;
  stop(): Promise<void>;
}

export interface ServerExtras {
  /** Made by the caller when something outside the server records too (the embedded-db supervisor). */
  metrics?: Metrics;
}

/** Bun's idle timeout is in seconds, at most 255; a polling GET may wait a whole ping interval. */
const idleTimeoutFor = (cfg: Config) => Math.min(255, Math.ceil((cfg.PING_INTERVAL_MS + cfg.PING_TIMEOUT_MS) / 1000) + 5);

export async function startServer(cfg: Config, mongoUrl: string, log: Logger, extras: ServerExtras = {}): Promise<RunningServer> {
  const metrics = extras.metrics ?? createMetrics();
  const db = await connectDatabase(mongoUrl, cfg.DATABASE_NAME, { monitorCommands: true });
  metrics.observeMongo(db.client);
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
    onError: (err, event) => log.error("socket handler failed", { event, err }),
    observer: metrics.socketio,
  });
  metrics.watchSessions(() => io.engine.sessions.values());
  services.setPublisher(metrics.instrumentPublisher(createChatPublisher(io)));
  const gateway = attachChatGateway({
    io,
    services,
    tokens,
    log,
    messageMaxLength: cfg.MESSAGE_MAX_LENGTH,
    sendPer10s: cfg.RATE_SEND_PER_10S,
    typingPer10s: cfg.RATE_TYPING_PER_10S,
    observer: metrics.gateway,
  });
  const exposure = exposeMetrics(cfg, metrics);
  const app = createHttpApp({
    services,
    tokens,
    log,
    corsOrigins: cfg.CORS_ORIGINS,
    messageMaxLength: cfg.MESSAGE_MAX_LENGTH,
    messagesPageMax: cfg.MESSAGES_PAGE_MAX,
    metrics: exposure.mainPort,
    demo: cfg.DEMO_ENABLED,
    system: { version: pkg.version, pingDb: () => db.ping(), connections: () => io.engine.clientsCount },
  });

  let draining = false;
  const server = Bun.serve({
    hostname: cfg.HOST,
    port: cfg.PORT,
    idleTimeout: idleTimeoutFor(cfg),
    fetch(req, srv) {
      // Draining: no new Engine.IO sessions (the client retries, through the balancer, elsewhere).
      if (draining && isNewEngineSession(req.url)) return Response.json({ code: 0, message: "server shutting down" }, { status: 503 });
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
  const metricsServer = exposure.listen();
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
    metrics,
    metricsPort: metricsServer?.port,
    stop() {
      // Graceful drain (rolling restarts): refuse new sessions; close every Engine.IO session, so clients
      // reconnect (to another instance behind the balancer) — polling clients collect their close packet on
      // their next GET, so the listener stays up until then; stop listening; let in-flight requests, socket
      // handlers and the presence writes of those disconnects finish; only then close the database client.
      stopping ??= (async () => {
        const started = Date.now();
        draining = true;
        await io.close();
        const requestsDone = server.stop(false);
        const left = () => Math.max(0, cfg.SHUTDOWN_TIMEOUT_MS - (Date.now() - started));
        const drained = (await gateway.drain(left())) && (await settlesWithin(requestsDone, left()));
        if (!drained) log.warn("stopping before in-flight work finished", { timeout_ms: cfg.SHUTDOWN_TIMEOUT_MS });
        await server.stop(true);
        await metricsServer?.stop(true);
        services.typing.close();
        await db.close();
      })();
      return stopping;
    },
  };
}

/** true when `p` settles within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  const ok = await Promise.race([p.then(() => true, () => true), timedOut]);
  clearTimeout(timer);
  return ok;
}

/** An Engine.IO handshake (a request under the default path without a session id). */
const isNewEngineSession = (url: string) => url.includes("/socket.io/") && !url.includes("sid=");
