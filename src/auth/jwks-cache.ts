/**
 * The host's signing keys from AUTH_JWKS_URL. Keys are cached; a token with an
 * unknown `kid` triggers a refetch (key rotation), at most once per
 * REFETCH_COOLDOWN_MS so garbage kids cannot make us hammer the key server;
 * every fetch is bounded by a timeout. Concurrent lookups share one fetch.
 */
import type { HonoJsonWebKey as JWK } from "hono/utils/jwt/jws";

const REFETCH_COOLDOWN_MS = 1_000;
/** Keys are refetched after this even when every kid is known, so removed keys stop working. */
const MAX_AGE_MS = 10 * 60_000;

export interface JwksCache {
  /** The keys, refetched first when `kid` is unknown (or the cache is old). */
  keysFor(kid: string): Promise<JWK[]>;
}

export function createJwksCache(url: string, timeoutMs: number): JwksCache {
  let keys: JWK[] = [];
  let fetchedAt = 0;
  let inflight: Promise<void> | undefined;

  const refresh = () =>
    (inflight ??= (async () => {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } });
        if (!res.ok) throw new Error(`JWKS fetch answered ${res.status}`);
        const body = (await res.json()) as { keys?: unknown };
        if (!Array.isArray(body.keys)) throw new Error("JWKS has no keys array");
        keys = body.keys as JWK[];
      } finally {
        fetchedAt = Date.now();
        inflight = undefined;
      }
    })());

  return {
    async keysFor(kid) {
      const age = Date.now() - fetchedAt;
      const known = keys.some((k) => k.kid === kid);
      if (age > MAX_AGE_MS || (!known && age > REFETCH_COOLDOWN_MS)) await refresh();
      else if (inflight) await inflight;
      return keys;
    },
  };
}
