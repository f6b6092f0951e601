/**
 * Access tokens: HS-signed JWTs with `sub` = email and `exp`, via hono/jwt.
 * The algorithm is pinned from config on verify (never taken from the token
 * header), so `alg: none` and algorithm-confusion tokens are rejected.
 */
import { sign, verify } from "hono/jwt";
import { AppError } from "../errors.ts";

export interface TokenConfig {
  secret: string;
  algorithm: "HS256" | "HS384" | "HS512";
  expireMinutes: number;
}

export interface Tokens {
  issue(email: string): Promise<{ token: string; expiresAt: Date }>;
  /** Returns the email of a valid token; throws AppError UNAUTHORIZED otherwise (never says why in detail). */
  verify(token: string | undefined | null): Promise<string>;
}

const MAX_TOKEN_LENGTH = 4096;
/** Verified tokens kept to skip the HMAC on the next request with the same token (a client reuses it for hours). */
const VERIFIED_CACHE_SIZE = 10_000;

export function createTokens(cfg: TokenConfig): Tokens {
  // Keyed by the exact token string, so only a byte-identical token that already passed the full
  // check hits; its expiry is still checked on every use. Insertion order makes the oldest go first.
  const verified = new Map<string, { sub: string; exp: number }>();
  const remember = (token: string, sub: string, exp: number) => {
    if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!);
    verified.set(token, { sub, exp });
  };
  return {
    async issue(email) {
      const now = Math.floor(Date.now() / 1000);
      const exp = now + cfg.expireMinutes * 60;
      const token = await sign({ sub: email, iat: now, exp }, cfg.secret, cfg.algorithm);
      return { token, expiresAt: new Date(exp * 1000) };
    },
    async verify(token) {
      if (typeof token !== "string" || token.length === 0) throw new AppError("UNAUTHORIZED", "missing token");
      if (token.length > MAX_TOKEN_LENGTH) throw new AppError("UNAUTHORIZED", "invalid token");
      const known = verified.get(token);
      if (known) {
        if (known.exp > Date.now() / 1000) return known.sub;
        verified.delete(token);
        throw new AppError("UNAUTHORIZED", "invalid or expired token");
      }
      let payload: Record<string, unknown>;
      try {
        payload = await verify(token, cfg.secret, cfg.algorithm);
      } catch {
        throw new AppError("UNAUTHORIZED", "invalid or expired token");
      }
      if (typeof payload.exp !== "number") throw new AppError("UNAUTHORIZED", "token has no expiry");
      if (typeof payload.sub !== "string" || !payload.sub.includes("@")) throw new AppError("UNAUTHORIZED", "invalid token subject");
      remember(token, payload.sub, payload.exp);
      return payload.sub;
    },
  };
}

/** Extracts the token of an `Authorization: Bearer <token>` header value. */
export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1] ?? null;
}
