/**
 * Configuration from the environment (Bun loads `.env`), validated with zod.
 * loadConfig() is pure: it never exits and never logs; it throws a ConfigError
 * naming every bad variable, and main.ts decides what to do with it.
 */
import { z } from "zod";

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
  PING_INTERVAL_MS: intFrom(25_000, 50, 600_000),
  PING_TIMEOUT_MS: intFrom(20_000, 50, 600_000),
  // Above 1 MB so an oversized chat message is refused by validation with an error, not by dropping the connection.
  MAX_HTTP_BUFFER_SIZE: intFrom(2_000_000, 1024, 100_000_000),
  TYPING_TTL_MS: intFrom(5_000, 100, 600_000),
  RATE_SEND_PER_10S: intFrom(50, 1, 1_000_000_000),
  RATE_TYPING_PER_10S: intFrom(30, 1, 1_000_000_000),
  // /metrics: behind this bearer token on the main port, and/or alone on its own port.
  METRICS_TOKEN: z.string().min(16, "at least 16 characters").optional(),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  // Graceful stop: how long in-flight requests, socket handlers and presence writes may take to finish.
  SHUTDOWN_TIMEOUT_MS: intFrom(10_000, 0, 600_000),
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
  if (secret === undefined && e.NODE_ENV === "production") {
    throw new ConfigError(["JWT_SECRET_KEY: required in production (at least 32 bytes)"]);
  }
  if (e.PING_TIMEOUT_MS + e.PING_INTERVAL_MS > 255_000 * 2) {
    throw new ConfigError(["PING_INTERVAL_MS + PING_TIMEOUT_MS: too large for the HTTP idle timeout"]);
  }
  return {
    ...e,
    JWT_SECRET_KEY: secret ?? randomSecret(),
    jwtSecretGenerated: secret === undefined,
    DEMO_ENABLED: e.DEMO_ENABLED === undefined ? e.NODE_ENV !== "production" : e.DEMO_ENABLED === "true",
  };
}

function randomSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64url");
}
