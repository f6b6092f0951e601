/**
 * Access tokens this server issues (open and trusted modes): HS-signed JWTs with
 * `sub` = email, `iat`, `exp` and a random `jti` (what logout revokes), via hono/jwt.
 * The algorithm is pinned from config on verify (never taken from the token
 * header), so `alg: none` and algorithm-confusion tokens are rejected. A token
 * whose lifetime (exp - iat) exceeds the configured one is refused: a leaked
 * signing key then cannot mint tokens that outlive the policy.
 */
import { sign, verify } from "hono/jwt";
import { AppError } from "../errors.ts";

export interface TokenConfig {
  secret: string;
  algorithm: "HS256" | "HS384" | "HS512";
  expireMinutes: number;
}

export interface TokenClaims {
  email: string;
  /** The token's id; for a token without one, a hash of the token (still unique, still revocable). */
  jti: string;
  /** Expiry in seconds since the epoch. */
  exp: number;
}

export interface Tokens {
  issue(email: string): Promise<{ token: string; expiresAt: Date; jti: string }>;
  /** Returns the email of a valid token; throws AppError UNAUTHORIZED otherwise (never says why in detail). */
  verify(token: string | undefined | null): Promise<string>;
  verifyClaims(token: string | undefined | null): Promise<TokenClaims>;
}

export const MAX_TOKEN_LENGTH = 4096;
/** Verified tokens kept to skip the HMAC on the next request with the same token (a client reuses it for hours). */
const VERIFIED_CACHE_SIZE = 10_000;

export function createTokens(cfg: TokenConfig): Tokens {
  const maxLifetimeS = cfg.expireMinutes * 60;
  // Keyed by the exact token string, so only a byte-identical token that already passed the full
  // check hits; its expiry is still checked on every use. Insertion order makes the oldest go first.
  const verified = new Map<string, TokenClaims>();
  const remember = (token: string, claims: TokenClaims) => {
    if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!);
    verified.set(token, claims);
  };
  const verifyClaims = async (token: string | undefined | null): Promise<TokenClaims> => {
    if (typeof token !== "string" || token.length === 0) throw new AppError("UNAUTHORIZED", "missing token");
    if (token.length > MAX_TOKEN_LENGTH) throw new AppError("UNAUTHORIZED", "invalid token");
    const known = verified.get(token);
    if (known) {
      if (known.exp > Date.now() / 1000) return known;
      verified.delete(token);
      throw new AppError("UNAUTHORIZED", "invalid or expired token");
    }
    let payload: Record<string, unknown>;
    try {
      payload = await verify(token, cfg.secret, cfg.algorithm);
    } catch {
      throw new AppError("UNAUTHORIZED", "invalid or expired token");
    }
    const { exp, iat, sub, jti } = payload;
    if (typeof exp !== "number") throw new AppError("UNAUTHORIZED", "token has no expiry");
    if (typeof sub !== "string" || !sub.includes("@")) throw new AppError("UNAUTHORIZED", "invalid token subject");
    // Without iat, the issue time is at most now, so exp must still lie within one lifetime from now.
    const issuedAt = typeof iat === "number" ? iat : Date.now() / 1000;
    if (exp - issuedAt > maxLifetimeS) throw new AppError("UNAUTHORIZED", "token lifetime exceeds JWT_EXPIRE_MINUTES");
    const claims = { email: sub, jti: typeof jti === "string" && jti.length > 0 ? jti : tokenHash(token), exp };
    remember(token, claims);
    return claims;
  };
  return {
    async issue(email) {
      const now = Math.floor(Date.now() / 1000);
      const exp = now + maxLifetimeS;
      const jti = crypto.randomUUID();
      const token = await sign({ sub: email, iat: now, exp, jti }, cfg.secret, cfg.algorithm);
      return { token, expiresAt: new Date(exp * 1000), jti };
    },
    verifyClaims,
    async verify(token) {
      return (await verifyClaims(token)).email;
    },
  };
}

/** A stable id for a token that carries no `jti` (sha-256 of the token, hex). */
export function tokenHash(token: string): string {
  return new Bun.CryptoHasher("sha256").update(token).digest("hex");
}

/** Extracts the token of an `Authorization: Bearer <token>` header value. */
export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1] ?? null;
}
