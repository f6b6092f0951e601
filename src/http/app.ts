/**
 * The REST application: security headers, CORS, body limit, auth on /api/*
 * (except login), rate limits, the routes, the generated OpenAPI document
 * (/openapi.json), Swagger UI (/docs, served offline), /asyncapi.json, /metrics and /demo.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";
import type { Authenticator } from "../auth/identity.ts";
import type { RevocationStore } from "../auth/revocations.ts";
import type { Tokens } from "../auth/tokens.ts";
import type { ChatServices } from "../domain/chat-services.ts";
import type { UserAdminService } from "../domain/user-admin.service.ts";
import { AppError } from "../errors.ts";
import type { RateLimiter } from "../limits/rate-limiter.ts";
import type { Logger } from "../logger.ts";
import { requireAuth, type AuthEnv } from "./auth.middleware.ts";
import { demoRoutes } from "./demo/demo.routes.ts";
import { docsRoutes } from "./docs/docs.routes.ts";
import { createErrorHandler, errorBody } from "./errors.ts";
import { rateLimit } from "./rate-limit.middleware.ts";
import { requestLog, withRequestId } from "./request-log.ts";
import { adminRoutes, requireApiKey } from "./routes/admin.routes.ts";
import { authRoutes } from "./routes/auth.routes.ts";
import { conversationsRoutes } from "./routes/conversations.routes.ts";
import { groupsRoutes } from "./routes/groups.routes.ts";
import { messageLifecycleRoutes } from "./routes/message-lifecycle.routes.ts";
import { messagesRoutes } from "./routes/messages.routes.ts";
import { metricsRoutes, type MetricsEndpoint } from "./routes/metrics.routes.ts";
import { searchRoutes } from "./routes/search.routes.ts";
import { syncRoutes } from "./routes/sync.routes.ts";
import { systemRoutes, type SystemDeps } from "./routes/system.routes.ts";
import { usersRoutes } from "./routes/users.routes.ts";

export interface HttpLimits {
  loginPerIp: RateLimiter;
  signupPerIp: RateLimiter;
  writesPerUser: RateLimiter;
  searchesPerUser: RateLimiter;
  syncsPerUser: RateLimiter;
}

export interface HttpAppDeps {
  services: ChatServices;
  auth: Authenticator;
  tokens: Tokens;
  revocations: RevocationStore;
  apiKeyValid: (key: string | undefined) => boolean;
  /** The admin API (X-API-Key); `enabled` false when no AUTH_API_KEYS are configured. */
  admin: { service: UserAdminService; enabled: boolean };
  limits: HttpLimits;
  trustProxy: boolean;
  log: Logger;
  system: SystemDeps;
  corsOrigins: string[];
  messageMaxLength: number;
  messagesPageMax: number;
  conversationsPageMax: number;
  groupMaxMembers: number;
  syncPageMax: number;
  /** GET /demo, the single-page client. */
  demo?: boolean;
  /** GET /metrics on this app; undefined: not served here. */
  metrics?: MetricsEndpoint;
}

export function createHttpApp(deps: HttpAppDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  const { services, limits, log } = deps;

  app.use("*", withRequestId(), requestLog(deps.log));
  // hono's defaults (nosniff, frame and referrer policies, HSTS...); /docs and /demo set their own strict
  // Content-Security-Policy (own origin only), which this does not override.
  app.use("*", secureHeaders());
  app.use(
    "*",
    cors({
      origin: deps.corsOrigins.includes("*") ? "*" : deps.corsOrigins,
      credentials: !deps.corsOrigins.includes("*"),
      allowHeaders: ["Authorization", "Content-Type"],
      exposeHeaders: ["X-Total-Count", "X-Has-More", "X-Next-Cursor", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"],
      maxAge: 600,
    }),
  );
  // A message may be MESSAGE_MAX_LENGTH characters of up to 4 UTF-8 bytes, plus the JSON around it;
  // an admin batch is up to 1,000 users of at most ~2.5 KB each.
  const tooLarge = () => {
    throw new AppError("PAYLOAD_TOO_LARGE", "request body too large");
  };
  const chatBody = bodyLimit({ maxSize: deps.messageMaxLength * 4 + 16 * 1024, onError: tooLarge });
  const adminBody = bodyLimit({ maxSize: 4 * 1024 * 1024, onError: tooLarge });
  const isAdmin = (path: string) => path.startsWith("/api/admin/");
  app.use("/api/*", async (c, next) => (isAdmin(c.req.path) ? adminBody(c, next) : chatBody(c, next)));
  const auth = requireAuth(deps.auth);
  const apiKey = requireApiKey({ enabled: deps.admin.enabled, apiKeyValid: deps.apiKeyValid, trustProxy: deps.trustProxy, log });
  // The admin API is the host's (X-API-Key), never a user's token.
  app.use("/api/*", async (c, next) => (isAdmin(c.req.path) ? apiKey(c, next) : c.req.path === "/api/auth/login" ? next() : auth(c, next)));
  // Per-user budgets, counted after authentication; login and sign-up are counted per IP in their route.
  const writes = rateLimit(limits.writesPerUser, "rest_writes", (c) => c.var.email, log);
  // Every change to conversations (start, groups, members, mark-read) and messages spends the writes budget.
  app.on(["POST", "PATCH", "PUT", "DELETE"], ["/api/conversations", "/api/conversations/*"], writes);
  // GET /api/messages/search is a read (its own budget below).
  app.use("/api/messages/*", async (c, next) => (c.req.method === "GET" ? next() : writes(c, next)));
  app.on("PATCH", "/api/users/me", writes);
  const searches = rateLimit(limits.searchesPerUser, "rest_searches", (c) => c.var.email, log);
  app.use("/api/users/search", searches);
  app.use("/api/messages/search", searches);
  app.use("/api/sync", rateLimit(limits.syncsPerUser, "rest_sync", (c) => c.var.email, log));

  app.route("/", systemRoutes(deps.system));
  app.route(
    "/",
    authRoutes({
      mode: deps.auth.mode,
      users: services.users,
      tokens: deps.tokens,
      revocations: deps.revocations,
      apiKeyValid: deps.apiKeyValid,
      loginPerIp: limits.loginPerIp,
      signupPerIp: limits.signupPerIp,
      trustProxy: deps.trustProxy,
      log,
    }),
  );
  app.route("/", usersRoutes({ users: services.users }));
  app.route("/", adminRoutes({ admin: deps.admin.service, trustProxy: deps.trustProxy, log }));
  app.route("/", conversationsRoutes({ conversations: services.conversations, pageMax: deps.messagesPageMax, listMax: deps.conversationsPageMax }));
  app.route("/", syncRoutes({ sync: services.sync, maxLimit: deps.syncPageMax }));
  app.route("/", searchRoutes({ search: services.search, pageMax: deps.messagesPageMax }));
  app.route("/", messagesRoutes({ messages: services.messages, users: services.users, maxLength: deps.messageMaxLength }));
  app.route("/", groupsRoutes({ groups: services.groups, conversations: services.conversations, maxMembers: deps.groupMaxMembers }));
  app.route("/", messageLifecycleRoutes({ lifecycle: services.lifecycle, maxLength: deps.messageMaxLength }));

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "The access_token from POST /api/auth/login, or (AUTH_MODE=jwt) the host application's own token",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "apiKey",
    in: "header",
    name: "X-API-Key",
    description: "The host backend's key (one of AUTH_API_KEYS), for the admin API in every AUTH_MODE",
  });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Chat backend API",
      version: deps.system.version,
      description: "REST API of the Socket.IO-compatible chat backend. Real-time (Socket.IO) events: the AsyncAPI 3.0 document at /asyncapi.json.",
    },
  });
  app.route("/", docsRoutes({ version: deps.system.version, messageMaxLength: deps.messageMaxLength }));
  if (deps.metrics) app.route("/", metricsRoutes(deps.metrics));
  if (deps.demo) app.route("/", demoRoutes());

  app.notFound((c) => c.json(errorBody("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`), 404));
  app.onError(createErrorHandler(deps.log));
  return app;
}

export type HttpApp = ReturnType<typeof createHttpApp>;
