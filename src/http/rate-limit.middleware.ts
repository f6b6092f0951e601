/**
 * REST rate limits: a budget per client IP (login, account creation) or per user
 * (writes, searches). Every limited response carries the IETF RateLimit-Limit /
 * RateLimit-Remaining / RateLimit-Reset headers; a refusal is 429 with
 * Retry-After, in the common error shape, and is logged (no tokens, no bodies).
 * @see https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { RateDecision, RateLimiter } from "../limits/rate-limiter.ts";
import type { Logger } from "../logger.ts";
import type { AuthEnv } from "./auth.middleware.ts";
import { AppError } from "../errors.ts";

/** The client address: Bun's peer address, or with TRUST_PROXY the address our proxy appended to X-Forwarded-For. */
export function clientIp(c: Context<AuthEnv>, trustProxy: boolean): string {
  if (trustProxy) {
    const last = c.req.header("x-forwarded-for")?.split(",").at(-1)?.trim();
    if (last) return last;
  }
  return c.env?.ip ?? "unknown";
}

export function setRateHeaders(c: Context, d: RateDecision): void {
  c.header("RateLimit-Limit", String(d.limit));
  c.header("RateLimit-Remaining", String(d.remaining));
  c.header("RateLimit-Reset", String(Math.ceil(d.resetMs / 1000)));
}

/** Refuses the request: sets the headers, logs, and throws RATE_LIMITED (429 through the error handler, headers kept). */
export function tooManyRequests(c: Context, d: RateDecision, log: Logger, budget: string, key: string): never {
  setRateHeaders(c, d);
  c.header("Retry-After", String(Math.max(1, Math.ceil(d.resetMs / 1000))));
  log.warn("audit: rate limited", { budget, key, path: c.req.path, retry_after_ms: d.resetMs });
  throw new AppError("RATE_LIMITED", "too many requests, retry later", { retry_after_ms: d.resetMs });
}

/** Counts each request against `limiter` under the key `keyOf` gives. */
export const rateLimit = (limiter: RateLimiter, budget: string, keyOf: (c: Context<AuthEnv>) => string, log: Logger) =>
  createMiddleware<AuthEnv>(async (c, next) => {
    const key = keyOf(c);
    const d = await limiter.take(key);
    if (!d.ok) tooManyRequests(c, d, log, budget, key);
    setRateHeaders(c, d);
    await next();
  });
