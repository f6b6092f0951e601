/**
 * The REST application: CORS, body limit, auth on /api/* (except login),
 * the routes, the generated OpenAPI document (/openapi.json) and Swagger UI (/docs, served offline).
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import type { Tokens } from "../auth/tokens.ts";
import type { ChatServices } from "../domain/chat-services.ts";
import { AppError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { requireAuth, type AuthEnv } from "./auth.middleware.ts";
import { demoRoutes } from "./demo/demo.routes.ts";
import { docsRoutes } from "./docs/docs.routes.ts";
import { createErrorHandler, errorBody } from "./errors.ts";
import { requestLog, withRequestId } from "./request-log.ts";
import { authRoutes } from "./routes/auth.routes.ts";
import { conversationsRoutes } from "./routes/conversations.routes.ts";
import { messagesRoutes } from "./routes/messages.routes.ts";
import { metricsRoutes, type MetricsEndpoint } from "./routes/metrics.routes.ts";
import { systemRoutes, type SystemDeps } from "./routes/system.routes.ts";
import { usersRoutes } from "./routes/users.routes.ts";

export interface HttpAppDeps {
  services: ChatServices;
  tokens: Tokens;
  log: Logger;
  system: SystemDeps;
  corsOrigins: string[];
  messageMaxLength: number;
  messagesPageMax: number;
  /** GET /demo, the single-page client. */
  demo?: boolean;
  /** GET /metrics on this app; undefined: not served here. */
  metrics?: MetricsEndpoint;
}

export function createHttpApp(deps: HttpAppDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  const { services } = deps;

  app.use("*", withRequestId(), requestLog(deps.log));
  app.use(
    "*",
    cors({
      origin: deps.corsOrigins.includes("*") ? "*" : deps.corsOrigins,
      credentials: !deps.corsOrigins.includes("*"),
      allowHeaders: ["Authorization", "Content-Type"],
      exposeHeaders: ["X-Total-Count", "X-Has-More"],
      maxAge: 600,
    }),
  );
  // A message may be MESSAGE_MAX_LENGTH characters of up to 4 UTF-8 bytes, plus the JSON around it.
  app.use(
    "/api/*",
    bodyLimit({
      maxSize: deps.messageMaxLength * 4 + 16 * 1024,
      onError: () => {
        throw new AppError("PAYLOAD_TOO_LARGE", "request body too large");
      },
    }),
  );
  app.use("/api/*", async (c, next) => (c.req.path === "/api/auth/login" ? next() : requireAuth(deps.tokens)(c, next)));

  app.route("/", systemRoutes(deps.system));
  app.route("/", authRoutes({ users: services.users, tokens: deps.tokens }));
  app.route("/", usersRoutes({ users: services.users }));
  app.route("/", conversationsRoutes({ conversations: services.conversations, pageMax: deps.messagesPageMax }));
  app.route("/", messagesRoutes({ messages: services.messages, users: services.users, maxLength: deps.messageMaxLength }));

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "The access_token from POST /api/auth/login",
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
