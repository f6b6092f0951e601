/**
 * One line per REST request with its id (`req_id`, also the X-Request-Id
 * response header; a caller's own X-Request-Id is kept), method, path (never
 * the query string, which may carry a token), status and duration. Health
 * checks and metric scrapes log at debug, so they do not drown the rest.
 */
import type { MiddlewareHandler } from "hono";
import { requestId } from "hono/request-id";
import type { Logger } from "../logger.ts";

const QUIET = new Set(["/health", "/metrics"]);

export const withRequestId = (): MiddlewareHandler => requestId();

export function requestLog(log: Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const fields = {
      req_id: c.get("requestId"),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    };
    if (QUIET.has(c.req.path)) log.debug("request", fields);
    else log.info("request", fields);
  };
}
