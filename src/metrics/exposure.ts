/**
 * Where /metrics is served. METRICS_PORT set: alone on that port (for a
 * scraper on a private network), behind METRICS_TOKEN too when set. Otherwise
 * on the main port, behind METRICS_TOKEN when set; in production an open
 * /metrics on the public port is never served (the caller warns instead).
 */
import type { Config } from "../config.ts";
import type { MetricsEndpoint } from "../http/routes/metrics.routes.ts";
import { metricsRoutes } from "../http/routes/metrics.routes.ts";
import type { Metrics } from "./metrics.ts";

export interface MetricsExposure {
  /** For the main app; undefined when /metrics is not on the main port. */
  mainPort?: MetricsEndpoint;
  /** Starts the dedicated listener when METRICS_PORT is set (call once the main server is up). */
  listen(): ReturnType<typeof Bun.serve> | undefined;
}

export type MetricsConfig = Pick<Config, "METRICS_TOKEN" | "METRICS_PORT" | "NODE_ENV" | "HOST">;

export const metricsHidden = (cfg: MetricsConfig) =>
  cfg.METRICS_PORT === undefined && cfg.METRICS_TOKEN === undefined && cfg.NODE_ENV === "production";

export function exposeMetrics(cfg: MetricsConfig, metrics: Metrics): MetricsExposure {
  const endpoint: MetricsEndpoint = { contentType: metrics.contentType, render: () => metrics.render(), token: cfg.METRICS_TOKEN };
  const port = cfg.METRICS_PORT;
  if (port !== undefined) {
    const app = metricsRoutes(endpoint);
    return { listen: () => Bun.serve({ hostname: cfg.HOST, port, fetch: (req) => app.fetch(req) }) };
  }
  return { mainPort: metricsHidden(cfg) ? undefined : endpoint, listen: () => undefined };
}
