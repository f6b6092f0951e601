/**
 * Composition root: database → repositories → domain services → REST app and
 * realtime gateway → Bun.serve. Returns a handle that stops everything it started
 * (but not the database server, which the caller owns).
 */
import { createApiKeyCheck } from "./auth/api-keys.ts";
import { createAuthenticator, ownTokenVerifier } from "./auth/authenticator.ts";
import { createHostJwtVerifier } from "./auth/host-jwt.ts";
import { createLocalRevocationStore, disabledUserKey, NEVER_EXPIRES } from "./auth/revocations.ts";
import { createTokens } from "./auth/tokens.ts";
import { startCluster } from "./cluster/cluster.ts";
import type { Config } from "./config.ts";
import { withListCache, type ListCacheStats } from "./db/conversation-list-cache.ts";
import { createConversationsRepo } from "./db/conversations.repo.ts";
import { watchForOtherWriters } from "./db/other-writers.ts";
import { ensureIndexes } from "./db/indexes.ts";
import { backfillMembers } from "./db/members.ts";
import { backfillUserTerms } from "./db/user-terms.ts";
import { createMessagesRepo } from "./db/messages.repo.ts";
import { backfillMessageTerms, createMessageTermsRepo, indexMessages } from "./db/message-terms.ts";
import { connectDatabase, type Database } from "./db/mongo.ts";
import { createRevocationsRepo } from "./db/revocations.repo.ts";
import { createUserFlagsRepo } from "./db/user-flags.repo.ts";
import { createOutboxRepo } from "./db/webhook-outbox.repo.ts";
import { createUsersRepo } from "./db/users.repo.ts";
import { createChatServices, type ChatServices } from "./domain/chat-services.ts";
import { UserAdminService } from "./domain/user-admin.service.ts";
import { createWebhookOutbox, type PresencePort } from "./domain/webhook-outbox.ts";
import { createHttpApp, type HttpApp } from "./http/app.ts";
import { exposeMetrics } from "./metrics/exposure.ts";
import { createMetrics, type Metrics } from "./metrics/metrics.ts";
import type { Logger } from "./logger.ts";
import { attachChatGateway } from "./realtime/chat-gateway.ts";
import { createChatPublisher } from "./realtime/chat-publisher.ts";
import { createSocketIOServer, type SocketIOServer } from "./realtime/socketio/server.ts";
import type { UserSockets } from "./realtime/user-sockets.ts";
import { startWebhookDispatcher } from "./webhooks/dispatcher.ts";
import pkg from "../package.json" with { type: "json" };

export interface RunningServer {
  url: string;
  port: number;
  app: HttpApp;
  io: SocketIOServer;
  db: Database;
  services: ChatServices;
  metrics: Metrics;
  /** Disconnects a user's sockets on every node (cluster mode) or this one. */
  userSockets: UserSockets;
  /** This process's id in the cluster ("local" without REDIS_URL). */
  nodeId: string;
  /** Port of the dedicated /metrics listener (METRICS_PORT), if any. */
  metricsPort?: number;
  /** The conversation-list cache's counters; null when there is none (cluster mode, LIST_CACHE_ITEMS=0). */
  listCacheStats(): ListCacheStats | null;
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
  const db = await connectDatabase(
    mongoUrl,
    cfg.DATABASE_NAME,
    (up) => (up ? log.info("database reachable again") : log.warn("database unreachable: writes are refused with DATABASE_UNAVAILABLE until it is back")),
    metrics.observeDbCommand,
  );
  try {
    await ensureIndexes(db.collections);
    const backfilled = await backfillMembers(db.collections);
    if (backfilled > 0) log.info("created membership documents for existing conversations", { members: backfilled });
    const indexed = await backfillUserTerms(db.collections);
    if (indexed > 0) log.info("built user search terms for existing users", { users: indexed });
    const searchable = await backfillMessageTerms(db.collections);
    if (searchable > 0) log.info("built the message search index for existing messages", { messages: searchable });
  } catch (err) {
    await db.close();
    throw err;
  }
  // Cluster mode (REDIS_URL) or in-process: the bus, presence registry, limiters and revocations come from here.
  let cluster;
  try {
    cluster = await startCluster(cfg, log, metrics);
  } catch (err) {
    await db.close();
    throw err;
  }
  // "Has a connected socket": the presence registry, cluster-wide in cluster mode.
  const presence: PresencePort = { onlineAmong: (emails) => cluster.presence.onlineAmong(emails) };
  const plainConversations = createConversationsRepo(db.collections.conversations, db.collections.members);
  // The list cache assumes this process is the only writer: never in cluster mode (nor with LIST_CACHE_ITEMS=0).
  const listCache = cluster.shared || cfg.LIST_CACHE_ITEMS === 0 ? null : withListCache(plainConversations, cfg.LIST_CACHE_ITEMS);
  if (listCache) metrics.watchListCache(listCache.listCacheStats);
  // Every process beats (cluster nodes too, so that a process without REDIS_URL beside them sees them); only a
  // process with a list cache acts on what it sees.
  const otherWriters = await watchForOtherWriters(db.collections.meta, (count) => {
    if (!listCache) return;
    listCache.disable();
    log.warn("another server process writes this database: conversation-list cache off (several processes on one database need REDIS_URL)", { others: count });
  });
  const conversationsRepo = listCache ?? plainConversations;
  const services = createChatServices(
    {
      users: createUsersRepo(db.collections.users, db.collections.userTerms),
      conversations: conversationsRepo,
      // New messages are indexed for search before the send completes (found at once by the sender's next search).
      // A failed index write does not fail the send (the message is stored and must be announced): it is logged,
      // and those messages stay unsearchable.
      messages: createMessagesRepo(db.collections.messages, (created) =>
        indexMessages(db.collections.messageTerms, created).catch((err) =>
          log.warn("message search index write failed: these messages are not searchable", { messages: created.length, err }),
        ),
      ),
      messageTerms: createMessageTermsRepo(db.collections.messageTerms, db.collections.messages, db.collections.members),
    },
    {
      searchLimit: cfg.SEARCH_RESULT_LIMIT,
      typingTtlMs: cfg.TYPING_TTL_MS,
      writeConcurrency: cfg.DB_WRITE_CONCURRENCY,
      groupMaxMembers: cfg.GROUP_MAX_MEMBERS,
      isDatabaseUp: db.health.isUp,
      presenceRegistry: cluster.presence,
      shared: cluster.shared,
      onSearchIndexError: (err) => log.warn("message search index update failed after an edit or delete", { err }),
      messageHooks: cfg.WEBHOOK_URL ? createWebhookOutbox({ events: cfg.WEBHOOK_EVENTS, presence }) : undefined,
    },
  );
  const webhooks = cfg.WEBHOOK_URL
    ? startWebhookDispatcher(
        {
          url: cfg.WEBHOOK_URL,
          secret: cfg.WEBHOOK_SECRET!,
          timeoutMs: cfg.WEBHOOK_TIMEOUT_MS,
          concurrency: cfg.WEBHOOK_CONCURRENCY,
          retryForMs: cfg.WEBHOOK_RETRY_FOR_MS,
          backoffMs: cfg.WEBHOOK_BACKOFF_MS,
          backoffMaxMs: cfg.WEBHOOK_BACKOFF_MAX_MS,
          pollMs: cfg.WEBHOOK_POLL_MS,
        },
        { outbox: createOutboxRepo(db.collections.messages), findConversation: (id) => conversationsRepo.findById(id), log },
      )
    : undefined;
  const stale = await services.presence.resetStale();
  if (stale > 0) log.info("cleared stale online flags", { users: stale });

  const tokens = createTokens({ secret: cfg.JWT_SECRET_KEY, algorithm: cfg.JWT_ALGORITHM, expireMinutes: cfg.JWT_EXPIRE_MINUTES });
  const revocations = cluster.revocations(await createLocalRevocationStore(createRevocationsRepo(db.collections.revocations)));
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
    observer: metrics.socketio,
    bus: cluster.bus,
    clusterReplay: cluster.replay,
  });
  const userSockets = cluster.userSockets(io);
  metrics.watchSessions(() => io.engine.sessions.values());
  const publisher = metrics.instrumentPublisher(createChatPublisher(io));
  services.setPublisher(publisher);
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
    limiters: cluster.limiters,
    maxSocketsPerUser: cfg.MAX_SOCKETS_PER_USER,
    tokenWarningMs: cfg.TOKEN_EXPIRY_WARNING_SECONDS * 1000,
    syncPageMax: cfg.SYNC_PAGE_MAX,
    presenceGraceMs: cfg.PRESENCE_GRACE_MS,
    observer: metrics.gateway,
  });
  const admin = new UserAdminService({
    users: services.users,
    flags: createUserFlagsRepo(db.collections.users),
    // Disabling is a revocation of every token of the user, so each node refuses them as it refuses a logged-out token.
    access: {
      disable: (email) => revocations.revoke(disabledUserKey(email), email, NEVER_EXPIRES),
      enable: (email) => revocations.unrevoke(disabledUserKey(email)),
    },
    conversations: services.conversations,
    publisher: () => publisher,
  });
  const exposure = exposeMetrics(cfg, metrics);
  const app = createHttpApp({
    services,
    auth,
    tokens,
    revocations,
    apiKeyValid: createApiKeyCheck(cfg.AUTH_API_KEYS ?? []),
    admin: { service: admin, enabled: (cfg.AUTH_API_KEYS?.length ?? 0) > 0 },
    limits: {
      loginPerIp: cluster.limiters("rest:login", cfg.RATE_LOGIN_PER_IP_PER_MIN, 60_000),
      signupPerIp: cluster.limiters("rest:signup", cfg.RATE_SIGNUP_PER_IP_PER_HOUR, 3_600_000),
      writesPerUser: cluster.limiters("rest:write", cfg.RATE_REST_WRITE_PER_MIN, 60_000),
      searchesPerUser: cluster.limiters("rest:search", cfg.RATE_SEARCH_PER_MIN, 60_000),
      syncsPerUser: cluster.limiters("rest:sync", cfg.RATE_SYNC_PER_10S, 10_000),
    },
    trustProxy: cfg.TRUST_PROXY,
    log,
    corsOrigins: cfg.CORS_ORIGINS,
    messageMaxLength: cfg.MESSAGE_MAX_LENGTH,
    messagesPageMax: cfg.MESSAGES_PAGE_MAX,
    conversationsPageMax: cfg.CONVERSATIONS_PAGE_MAX,
    groupMaxMembers: cfg.GROUP_MAX_MEMBERS,
    syncPageMax: cfg.SYNC_PAGE_MAX,
    metrics: exposure.mainPort,
    demo: cfg.DEMO_ENABLED,
    system: { version: pkg.version, pingDb: async () => db.health.isUp(), connections: () => io.engine.clientsCount },
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
      return r === null ? app.fetch(req, { ip: srv.requestIP(req)?.address }) : r;
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
    userSockets,
    nodeId: cluster.nodeId,
    metricsPort: metricsServer?.port,
    listCacheStats: () => listCache?.listCacheStats() ?? null,
    stop() {
      // Graceful drain (rolling restarts): refuse new sessions; close every Engine.IO session, so clients
      // reconnect (to another instance behind the balancer) — polling clients collect their close packet on
      // their next GET, so the listener stays up until then; stop listening; let in-flight requests, socket
      // handlers and the presence writes of those disconnects finish; only then close the database client.
      stopping ??= (async () => {
        const started = Date.now();
        draining = true;
        await io.close();
        services.presence.endGraces();
        const requestsDone = server.stop(false);
        const left = () => Math.max(0, cfg.SHUTDOWN_TIMEOUT_MS - (Date.now() - started));
        const drained = (await gateway.drain(left())) && (await settlesWithin(requestsDone, left()));
        if (!drained) log.warn("stopping before in-flight work finished", { timeout_ms: cfg.SHUTDOWN_TIMEOUT_MS });
        await server.stop(true);
        await metricsServer?.stop(true);
        gateway.close();
        services.typing.close();
        services.presence.close();
        await webhooks?.stop();
        await cluster.close();
        await otherWriters.stop();
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
