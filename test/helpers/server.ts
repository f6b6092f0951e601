/**
 * Starts the real server on 127.0.0.1, port 0, against the test run's
 * MongoDB-wire server, with a database of its own, and drops it on stop.
 */
import { loadConfig, type Config } from "../../src/config.ts";
import { createLogger, type Logger } from "../../src/logger.ts";
import { startServer, type RunningServer } from "../../src/server.ts";

let counter = 0;

export function testMongoUrl(): string {
  const url = process.env.TEST_MONGODB_URL;
  if (!url) throw new Error("TEST_MONGODB_URL is not set: the test preload did not run");
  return url;
}

export function uniqueDbName(label: string): string {
  return `t_${label.replace(/[^A-Za-z0-9]/g, "").slice(0, 20)}_${process.pid}_${Date.now().toString(36)}_${counter++}`;
}

export interface TestServer extends RunningServer {
  cfg: Config;
  stopAndDrop(): Promise<void>;
}

/**
 * `mongoUrl`: another database server than the test run's (fault tests start their own).
 * `log`: a logger of the test's own (e.g. one that captures lines); default per TEST_LOG_LEVEL, silent.
 */
export async function startTestServer(label: string, env: Record<string, string> = {}, mongoUrl = testMongoUrl(), log?: Logger): Promise<TestServer> {
  const cfg = loadConfig({
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    PORT: "0",
    DATABASE_NAME: uniqueDbName(label),
    JWT_SECRET_KEY: "test-secret-that-is-long-enough-for-hs256-0123456789",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    CORS_ORIGINS: "http://localhost:3000",
    ...env,
  });
  const server = await startServer(cfg, mongoUrl, log ?? createLogger(cfg.LOG_LEVEL));
  return {
    ...server,
    cfg,
    async stopAndDrop() {
      await server.db.db.dropDatabase().catch(() => {});
      await server.stop();
    },
  };
}
