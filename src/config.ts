/**
 * Configuration from the environment (Bun loads `.env`), validated with zod.
 * loadConfig() is pure: it never exits and never logs; it throws a ConfigError
 * naming every bad variable, and main.ts decides what to do with it.
 */
import { z } from "zod";
import { WEBHOOK_EVENT_TYPES } from "./domain/webhook-outbox.ts";

const csv = z
  .string()
  .transform((s) => s.split(",").map((x) => x.trim()).filter((x) => x.length > 0));

const intFrom = (def: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(def);

export const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: intFrom(8000, 0, 65535),
  HOST: z.string().min(1).default("0.0.0.0"),
  MONGODB_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, "must start with mongodb:// or mongodb+srv://")
    .optional(),
  DATABASE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/, "letters, digits, _ and - only (max 63)")
    .default("chat_app"),
  JWT_SECRET_KEY: z.string().optional(),
  JWT_ALGORITHM: z.enum(["HS256", "HS384", "HS512"]).default("HS256"),
  JWT_EXPIRE_MINUTES: intFrom(1440, 1, 525_600),
  CORS_ORIGINS: csv.default(["http://localhost:3000", "http://localhost:8080"]),
  DATA_DIR: z.string().min(1).default("./data"),
  DB_WRITE_CONCURRENCY: intFrom(4, 1, 256),
  EMBEDDED_DB_SYNC: z.enum(["normal", "full"]).default("normal"),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  MESSAGE_MAX_LENGTH: intFrom(10_000, 1, 1_000_000),
  SEARCH_RESULT_LIMIT: intFrom(20, 1, 100),
  MESSAGES_PAGE_MAX: intFrom(100, 1, 1000),
  CONVERSATIONS_PAGE_MAX: intFrom(500, 1, 10_000),
  GROUP_MAX_MEMBERS: intFrom(1_000, 2, 100_000),
  // Conversations held by the per-process cache of users' conversation lists (0: off; always off in cluster mode).
  LIST_CACHE_ITEMS: intFrom(100_000, 0, 10_000_000),
  SYNC_PAGE_MAX: intFrom(500, 1, 10_000),
  PING_INTERVAL_MS: intFrom(25_000, 50, 600_000),
  PING_TIMEOUT_MS: intFrom(20_000, 50, 600_000),
  // Above 1 MB so an oversized chat message is refused by validation with an error, not by dropping the connection.
  MAX_HTTP_BUFFER_SIZE: intFrom(2_000_000, 1024, 100_000_000),
  TYPING_TTL_MS: intFrom(5_000, 100, 600_000),
  // Identity: see README "Authentication".
  AUTH_MODE: z.enum(["open", "trusted", "jwt"]).default("open"),
  AUTH_API_KEYS: csv.pipe(z.array(z.string().min(32, "each key must be at least 32 characters"))).optional(),
  AUTH_JWT_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  AUTH_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  AUTH_JWKS_TIMEOUT_MS: intFrom(5_000, 100, 60_000),
  AUTH_JWT_ISSUER: z.string().optional(),
  AUTH_JWT_AUDIENCE: z.string().optional(),
  AUTH_EMAIL_CLAIM: z.string().min(1).default("email"),
  AUTH_NAME_CLAIM: z.string().min(1).default("name"),
  AUTH_PICTURE_CLAIM: z.string().min(1).default("picture"),
  TOKEN_EXPIRY_WARNING_SECONDS: intFrom(60, 1, 86_400),
  // Per-user budgets across all sockets of the user, per 10 s window.
  RATE_SEND_PER_10S: intFrom(50, 1, 1_000_000_000),
  RATE_TYPING_PER_10S: intFrom(30, 1, 1_000_000_000),
  RATE_READ_PER_10S: intFrom(60, 1, 1_000_000_000),
  RATE_JOIN_PER_10S: intFrom(60, 1, 1_000_000_000),
  RATE_PRESENCE_PER_10S: intFrom(10, 1, 1_000_000_000),
  RATE_SYNC_PER_10S: intFrom(20, 1, 1_000_000_000),
  // Every tab of a user gets token_expiring at once and may refresh: above MAX_SOCKETS_PER_USER.
  RATE_REFRESH_PER_10S: intFrom(30, 1, 1_000_000_000),
  MAX_SOCKETS_PER_USER: intFrom(20, 1, 100_000),
  // REST budgets: per client IP (login, account creation) and per user (writes, searches).
  RATE_LOGIN_PER_IP_PER_MIN: intFrom(60, 1, 1_000_000_000),
  RATE_SIGNUP_PER_IP_PER_HOUR: intFrom(100, 1, 1_000_000_000),
  RATE_REST_WRITE_PER_MIN: intFrom(600, 1, 1_000_000_000),
  RATE_SEARCH_PER_MIN: intFrom(60, 1, 1_000_000_000),
  TRUST_PROXY: z.enum(["true", "false"]).default("false").transform((v) => v === "true"),
  // Socket.IO connection state recovery window (0: off); a dropped client back within it misses nothing.
  RECOVERY_WINDOW_MS: intFrom(120_000, 0, 3_600_000),
  // A lost transport keeps its user online this long (at most the recovery window), so a short drop is invisible.
  PRESENCE_GRACE_MS: intFrom(5_000, 0, 3_600_000),
  // Engine.IO packets one polling POST may carry (413 and close beyond), and unfinished event handlers per socket
  // before the server stops reading from it (backpressure).
  MAX_PACKETS_PER_POST: intFrom(1000, 1, 1_000_000),
  MAX_HANDLERS_IN_FLIGHT: intFrom(32, 1, 100_000),
  // /metrics: behind this bearer token on the main port, and/or alone on its own port.
  METRICS_TOKEN: z.string().min(16, "at least 16 characters").optional(),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  // Graceful stop: how long in-flight requests, socket handlers and presence writes may take to finish.
  SHUTDOWN_TIMEOUT_MS: intFrom(10_000, 0, 600_000),
  // Cluster mode (README "Cluster mode"): every process with the same REDIS_URL and database is one service.
  REDIS_URL: z.string().regex(/^(redis|rediss|valkey|valkeys):\/\//, "must start with redis:// or rediss://").optional(),
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9_:.-]{0,64}$/, "letters, digits and _:.- only (max 64)").default("chat:"),
  // A node that stops heartbeating has its users marked offline by the others within 2 × this.
  CLUSTER_HEARTBEAT_MS: intFrom(5_000, 100, 600_000),
  // Webhooks to the host (README "Webhooks"): off without WEBHOOK_URL; signed with WEBHOOK_SECRET.
  WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  WEBHOOK_SECRET: z.string().min(16, "at least 16 characters").optional(),
  WEBHOOK_EVENTS: csv.pipe(z.array(z.enum(WEBHOOK_EVENT_TYPES))).default(["message.offline"]),
  WEBHOOK_TIMEOUT_MS: intFrom(5_000, 50, 120_000),
  WEBHOOK_CONCURRENCY: intFrom(8, 1, 1_000),
  WEBHOOK_RETRY_FOR_MS: intFrom(86_400_000, 0, 30 * 86_400_000),
  WEBHOOK_BACKOFF_MS: intFrom(1_000, 1, 3_600_000),
  WEBHOOK_BACKOFF_MAX_MS: intFrom(300_000, 1, 86_400_000),
  WEBHOOK_POLL_MS: intFrom(1_000, 10, 600_000),
  // GET /demo: on by default outside production.
  DEMO_ENABLED: z.enum(["true", "false"]).optional(),
});

export type Env = z.infer<typeof EnvSchema>;

export interface Config extends Omit<Env, "JWT_SECRET_KEY" | "DEMO_ENABLED"> {
  JWT_SECRET_KEY: string;
  /** DEMO_ENABLED, defaulting to true outside production. */
  DEMO_ENABLED: boolean;
  /** true when no secret was configured and a random one was generated (development only). */
  jwtSecretGenerated: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

const MIN_SECRET_BYTES = 32;

export function loadConfig(env: Record<string, string | undefined>): Config {
  // Empty strings mean "unset", as in most .env files.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".") || "env"}: ${i.message}`));
  }
  const e = parsed.data;
  const secret = e.JWT_SECRET_KEY;
  if (secret !== undefined && Buffer.byteLength(secret) < MIN_SECRET_BYTES && e.NODE_ENV === "production") {
    throw new ConfigError([`JWT_SECRET_KEY: must be at least ${MIN_SECRET_BYTES} bytes in production`]);
  }
  // In jwt mode this server issues no tokens of its own, so it needs no secret of its own.
  if (secret === undefined && e.NODE_ENV === "production" && e.AUTH_MODE !== "jwt") {
    throw new ConfigError(["JWT_SECRET_KEY: required in production (at least 32 bytes)"]);
  }
  const authProblems = authModeProblems(e);
  if (authProblems.length > 0) throw new ConfigError(authProblems);
  if (e.PING_TIMEOUT_MS + e.PING_INTERVAL_MS > 255_000 * 2) {
    throw new ConfigError(["PING_INTERVAL_MS + PING_TIMEOUT_MS: too large for the HTTP idle timeout"]);
  }
  if (e.WEBHOOK_URL !== undefined && e.WEBHOOK_SECRET === undefined) {
    throw new ConfigError(["WEBHOOK_SECRET: required with WEBHOOK_URL (deliveries are always signed)"]);
  }
  if (e.PRESENCE_GRACE_MS > e.RECOVERY_WINDOW_MS && e.RECOVERY_WINDOW_MS > 0) {
    throw new ConfigError(["PRESENCE_GRACE_MS: must not exceed RECOVERY_WINDOW_MS"]);
  }
  return {
    ...e,
    JWT_SECRET_KEY: secret ?? randomSecret(),
    jwtSecretGenerated: secret === undefined,
    DEMO_ENABLED: e.DEMO_ENABLED === undefined ? e.NODE_ENV !== "production" : e.DEMO_ENABLED === "true",
  };
}

/** What each AUTH_MODE needs; `open` (anyone can log in as anyone) is never allowed in production. */
function authModeProblems(e: Env): string[] {
  if (e.AUTH_MODE === "open") {
    return e.NODE_ENV === "production" ? ["AUTH_MODE: open (login by email alone) is refused with NODE_ENV=production; use trusted or jwt"] : [];
  }
  if (e.AUTH_MODE === "trusted") {
    return e.AUTH_API_KEYS?.length ? [] : ["AUTH_API_KEYS: required with AUTH_MODE=trusted (comma list, each at least 32 characters)"];
  }
  const sources = Number(e.AUTH_JWT_SECRET !== undefined) + Number(e.AUTH_JWKS_URL !== undefined);
  return sources === 1 ? [] : ["AUTH_JWT_SECRET / AUTH_JWKS_URL: AUTH_MODE=jwt needs exactly one of them"];
}

function randomSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64url");
}
