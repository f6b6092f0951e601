/**
 * Named rate budgets shared by every node of a cluster: a fixed window per (budget, key) as one Redis counter
 * (`INCR`, expiry set by the first hit, one Lua round trip), so a user's budget is one budget however many nodes
 * their sockets and requests land on. While Redis is away, each node falls back to its own in-process window
 * (a user may then get up to one budget per node — logged once).
 */
import { createLocalRateLimiter, type RateLimiter, type RateLimiterFactory } from "../limits/rate-limiter.ts";
import type { Logger } from "../logger.ts";
import type { RedisLink } from "./redis-link.ts";

const HIT = `local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

export function createRedisRateLimiterFactory(link: RedisLink, log: Logger): RateLimiterFactory {
  let warned = false;
  return (budget, limit, windowMs): RateLimiter => {
    const local = createLocalRateLimiter(limit, windowMs);
    const prefix = `${link.prefix}rl:${budget}:`;
    const window = String(windowMs);
    return {
      limit,
      windowMs,
      async take(key) {
        try {
          const [n, ttl] = (await link.send("EVAL", [HIT, "1", prefix + key, window])) as [number, number];
          warned = false;
          return { ok: n <= limit, limit, remaining: Math.max(0, limit - n), resetMs: Math.max(0, ttl) };
        } catch (err) {
          if (!warned) log.warn("cluster rate limits: redis unavailable, counting per node", { err: (err as Error).message });
          warned = true;
          return local.take(key);
        }
      },
    };
  };
}
