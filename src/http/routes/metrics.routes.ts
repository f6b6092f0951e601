/**
 * GET /metrics (Prometheus text format). With a token configured, only
 * `Authorization: Bearer <token>` gets the numbers; the comparison takes the
 * same time whatever the guess.
 */
import { timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import { bearerToken } from "../../auth/tokens.ts";
import { errorBody } from "../errors.ts";

export interface MetricsEndpoint {
  contentType: string;
  render(): Promise<string>;
  /** Required bearer token; undefined: open (a separate port, or development). */
  token?: string;
}

const digest = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest();

export function metricsRoutes(m: MetricsEndpoint) {
  const expected = m.token === undefined ? undefined : digest(m.token);
  return new Hono().get("/metrics", async (c) => {
    if (expected) {
      const given = bearerToken(c.req.header("authorization"));
      if (given === null || !timingSafeEqual(digest(given), expected)) {
        return c.json(errorBody("UNAUTHORIZED", "metrics need the bearer token"), 401, { "www-authenticate": "Bearer" });
      }
    }
    return c.body(await m.render(), 200, { "content-type": m.contentType, "cache-control": "no-store" });
  });
}
