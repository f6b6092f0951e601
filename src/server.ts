/**
 * Composition root: database → repositories → domain services → REST app and
 * realtime gateway → Bun.serve. Returns a handle that stops everything it started
 * (but not the database server, which the caller owns).
 */
import { createApiKeyCheck } from "./auth/api-keys.ts";
import { createAuthenticator, ownTokenVerifier } from "./auth/authenticator.ts";
import { createHostJwtVerifier } from "./auth/host-jwt.ts";
import { createLocalRevocationStore } from "./auth/revocations.ts";
import { createTokens } from "./auth/tokens.ts";
import type { Config } from "./config.ts";
import { createConversationsRepo } from "./db/conversations.repo.ts";
import { ensureIndexes } from "./db/indexes.ts";
import { backfillMembers } from "./db/members.ts";
import { backfillUserTerms } from "./db/user-terms.ts";
import { createMessagesRepo } from "./db/messages.repo.ts";
import { connectDatabase, type Database } from "./db/mongo.ts";
import { createRevocationsRepo } from "./db/revocations.repo.ts";
import { createUsersRepo } from "./db/users.repo.ts";
import { createChatServices, type ChatServices } from "./domain/chat-services.ts";
import { createHttpApp, type HttpApp } from "./http/app.ts";
import { createLocalRateLimiter } from "./limits/rate-limiter.ts";
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
  const db = await connectDatabase(mongoUrl, cfg.DATABASE_NAME, (up) =>
    up ? log.info("database reachable again") : log.warn("database unreachable: writes are refused with DATABASE_UNAVAILABLE until it is back"),
  );
  try {
    await ensureIndexes(db.collections);
    const backfilled = await backfillMembers(db.collections);
    if (backfilled > 0) log.info("created membership documents for existing conversations", { members: backfilled });
    const indexed = await backfillUserTerms(db.collections);
    if (indexed > 0) log.info("built user search terms for existing users", { users: indexed });
  } catch (err) {
    await db.close();
    throw err;
  }
  const services = createChatServices(
    {
      users: createUsersRepo(db.collections.users, db.collections.userTerms),
      conversations: createConversationsRepo(db.collections.conversations, db.collections.members),
      messages: createMessagesRepo(db.collections.messages),
    },
    {
      searchLimit: cfg.SEARCH_RESULT_LIMIT,
      typingTtlMs: cfg.TYPING_TTL_MS,
      writeConcurrency: cfg.DB_WRITE_CONCURRENCY,
      isDatabaseUp: db.health.isUp,
    },
  );
  const stale = await services.presence.resetStale();
  if (stale > 0) log.info("cleared stale online flags", { users: stale });

  const tokens = createTokens({ secret: cfg.JWT_SECRET_KEY, algorithm: cfg.JWT_ALGORITHM, expireMinutes: cfg.JWT_EXPIRE_MINUTES });
  const revocations = await createLocalRevocationStore(createRevocationsRepo(db.collections.revocations));
  const auth = createAuthenticator({
    mode: cfg.AUTH_MODE,
    verifier: cfg.AUTH_MODE === "jwt" ? createHostJwtVerifier(hostJwtConfig(cfg)) : ownTokenVerifier(tokens),
    revocations,
    syncUser: (id) => services.users.syncFromClaims(id),
    log,
  });
  if (cfg.AUTH_MODE === "open") log.warn("AUTH_MODE=open: anyone can log in as any email; for development only (refused with NODE_ENV=production)");
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
  const gateway = attachChatGateway({
    io,
    services,
    auth,
    revocations,
    log,
    debug: cfg.LOG_LEVEL === "debug",
    messageMaxLength: cfg.MESSAGE_MAX_LENGTH,
    budgets: {
      send: cfg.RATE_SEND_PER_10S,
      typing: cfg.RATE_TYPING_PER_10S,
      read: cfg.RATE_READ_PER_10S,
      join: cfg.RATE_JOIN_PER_10S,
      presence: cfg.RATE_PRESENCE_PER_10S,
      sync: cfg.RATE_SYNC_PER_10S,
      refresh: cfg.RATE_REFRESH_PER_10S,
    },
    maxSocketsPerUser: cfg.MAX_SOCKETS_PER_USER,
    tokenWarningMs: cfg.TOKEN_EXPIRY_WARNING_SECONDS * 1000,
    syncPageMax: cfg.SYNC_PAGE_MAX,
    presenceGraceMs: cfg.PRESENCE_GRACE_MS,
  });
  const app = createHttpApp({
    services,
    auth,
    tokens,
    revocations,
    apiKeyValid: createApiKeyCheck(cfg.AUTH_API_KEYS ?? []),
    limits: {
      loginPerIp: createLocalRateLimiter(cfg.RATE_LOGIN_PER_IP_PER_MIN, 60_000),
      signupPerIp: createLocalRateLimiter(cfg.RATE_SIGNUP_PER_IP_PER_HOUR, 3_600_000),
      writesPerUser: createLocalRateLimiter(cfg.RATE_REST_WRITE_PER_MIN, 60_000),
      searchesPerUser: createLocalRateLimiter(cfg.RATE_SEARCH_PER_MIN, 60_000),
      syncsPerUser: createLocalRateLimiter(cfg.RATE_SYNC_PER_10S, 10_000),
    },
    trustProxy: cfg.TRUST_PROXY,
    log,
    corsOrigins: cfg.CORS_ORIGINS,
    messageMaxLength: cfg.MESSAGE_MAX_LENGTH,
    messagesPageMax: cfg.MESSAGES_PAGE_MAX,
    conversationsPageMax: cfg.CONVERSATIONS_PAGE_MAX,
    syncPageMax: cfg.SYNC_PAGE_MAX,
    system: { version: pkg.version, pingDb: async () => db.health.isUp(), connections: () => io.engine.clientsCount },
  });

  const server = Bun.serve({
    hostname: cfg.HOST,
    port: cfg.PORT,
    idleTimeout: idleTimeoutFor(cfg),
    fetch(req, srv) {
      // null: not an Engine.IO request; undefined: upgraded to a websocket.
      const r = io.handleRequest(req, srv);
      return r === null ? app.fetch(req, { ip: srv.requestIP(req)?.address }) : r;
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
        gateway.close();
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

function hostJwtConfig(cfg: Config) {
  return {
    secret: cfg.AUTH_JWT_SECRET,
    jwksUrl: cfg.AUTH_JWKS_URL,
    jwksTimeoutMs: cfg.AUTH_JWKS_TIMEOUT_MS,
    issuer: cfg.AUTH_JWT_ISSUER,
    audience: cfg.AUTH_JWT_AUDIENCE,
    emailClaim: cfg.AUTH_EMAIL_CLAIM,
    nameClaim: cfg.AUTH_NAME_CLAIM,
    pictureClaim: cfg.AUTH_PICTURE_CLAIM,
  };
}
