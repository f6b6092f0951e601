/**
 * Entry point: reads config, starts the embedded database when MONGODB_URL is
 * unset, starts the server, and shuts everything down on SIGINT/SIGTERM with a
 * graceful drain (see RunningServer.stop), bounded by SHUTDOWN_TIMEOUT_MS; a
 * second signal exits at once. The only place that exits the process.
 */
// First: the server's HTTP layer extends zod with .openapi(), which zod 4 gives only to schemas built after
// it; metrics (below) load the domain's event schemas, so they must not be evaluated before it.
import { startServer, type RunningServer } from "./server.ts";
import { dirname, resolve } from "node:path";
import { ConfigError, loadConfig, type Config } from "./config.ts";
import { startEmbeddedDb, type EmbeddedDb } from "./embedded-db/embedded-db.ts";
import { createLogger, defaultLogFormat } from "./logger.ts";
import { metricsHidden } from "./metrics/exposure.ts";
import { createMetrics } from "./metrics/metrics.ts";

const projectRoot = resolve(dirname(import.meta.path), "..");

let cfg: Config;
try {
  cfg = loadConfig(process.env);
} catch (e) {
  if (e instanceof ConfigError) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
const log = createLogger(cfg.LOG_LEVEL, { format: defaultLogFormat(cfg.NODE_ENV) });
if (cfg.jwtSecretGenerated) {
  log.warn("JWT_SECRET_KEY is not set: using a random secret for this run (tokens die with the process); set it in production");
}

if (metricsHidden(cfg)) log.warn("/metrics is not served: set METRICS_TOKEN (bearer) or METRICS_PORT (own listener) to expose it");
// Made here, before the embedded database, so its supervisor can count restarts (metrics.embeddedDbRestarts.inc()).
const metrics = createMetrics();

let embedded: EmbeddedDb | undefined;
let server: RunningServer | undefined;

let exiting = false;
async function shutdown(code: number): Promise<never> {
  if (exiting) process.exit(code);
  exiting = true;
  log.info("shutting down: draining connections and in-flight writes", { timeout_ms: cfg.SHUTDOWN_TIMEOUT_MS });
  // The drain is bounded inside stop(); this is the last resort if closing itself hangs.
  setTimeout(() => process.exit(code), cfg.SHUTDOWN_TIMEOUT_MS + 5_000).unref();
  try {
    await server?.stop();
  } catch (err) {
    log.error("error while stopping the server", { err });
  }
  await embedded?.stop().catch(() => {});
  log.info("stopped");
  process.exit(code);
}

process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
process.on("uncaughtException", (err) => {
  log.error("uncaught exception", { err });
  void shutdown(1);
});
process.on("unhandledRejection", (err) => log.error("unhandled rejection", { err: err instanceof Error ? err : String(err) }));

try {
  let mongoUrl = cfg.MONGODB_URL;
  if (!mongoUrl) {
    embedded = await startEmbeddedDb({
      dataDir: cfg.DATA_DIR,
      projectRoot,
      sync: cfg.EMBEDDED_DB_SYNC,
      progress: (line) => log.info(line),
      onEvent: (e) => {
        if (e.type === "exited") log.error("embedded database exited; restarting it", { code: e.code, signal: e.signal });
        else if (e.type === "restarted") log.info("embedded database restarted", { attempt: e.attempt });
        else log.error("embedded database restart failed; retrying", { attempt: e.attempt, err: e.err instanceof Error ? e.err : String(e.err) });
      },
    });
    mongoUrl = embedded.url;
    log.info("embedded database ready", { kind: embedded.kind, url: embedded.url });
  }
  server = await startServer(cfg, mongoUrl, log, { metrics });
  log.info("chat backend listening", { url: server.url, docs: `${server.url}/docs` });
} catch (err) {
  log.error("failed to start", { err });
  await shutdown(1);
}
