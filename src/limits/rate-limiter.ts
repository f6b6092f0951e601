/**
 * Rate limits keyed by a string (a user's email, a client IP): at most `limit`
 * hits per fixed window of `windowMs`. One small interface with an in-process
 * implementation; a shared one (Redis, for cluster mode) implements the same
 * interface, which is why `take` may return a promise.
 */
export interface RateDecision {
  ok: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the current window ends (when a refused caller may retry). */
  resetMs: number;
}

export interface RateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  /** Counts a hit for `key`; `ok: false` when its budget for the current window is used up. */
  take(key: string): RateDecision | Promise<RateDecision>;
}

interface Window {
  start: number;
  count: number;
}

/**
 * In-process fixed windows: two numbers per active key, no timer. Keys idle for a whole
 * window are swept at most once per window, on a later hit, so the map holds only recent keys.
 */
export function createLocalRateLimiter(limit: number, windowMs: number): RateLimiter {
  const windows = new Map<string, Window>();
  let lastSweep = Date.now();
  const sweep = (now: number) => {
    lastSweep = now;
    for (const [k, w] of windows) if (now - w.start >= windowMs) windows.delete(k);
  };
  return {
    limit,
    windowMs,
    take(key) {
      const now = Date.now();
      if (now - lastSweep >= windowMs) sweep(now);
      let w = windows.get(key);
      if (!w || now - w.start >= windowMs) {
        w = { start: now, count: 0 };
        windows.set(key, w);
      }
      const resetMs = w.start + windowMs - now;
      if (w.count >= limit) return { ok: false, limit, remaining: 0, resetMs };
      w.count++;
      return { ok: true, limit, remaining: limit - w.count, resetMs };
    },
  };
}

/**
 * Makes the limiter of a named budget. Every budget (REST and socket) is made through one factory, so
 * cluster mode swaps in limiters shared through Redis without any handler knowing.
 */
export type RateLimiterFactory = (budget: string, limit: number, windowMs: number) => RateLimiter;

export const localRateLimiters: RateLimiterFactory = (_budget, limit, windowMs) => createLocalRateLimiter(limit, windowMs);
