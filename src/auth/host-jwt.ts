/**
 * AUTH_MODE=jwt: the host application's own tokens, verified with hono's JWT
 * utilities (no hand-written crypto). Either a shared HMAC secret
 * (HS256/384/512) or the host's JWKS (RS256, ES256, EdDSA, and their larger
 * siblings). `exp` is required; `iss` and `aud` are checked when configured;
 * the email, name and picture come from configurable claims.
 */
import { Jwt } from "hono/utils/jwt";
import { AppError } from "../errors.ts";
import type { Identity, TokenVerifier } from "./identity.ts";
import { createJwksCache } from "./jwks-cache.ts";
import { MAX_TOKEN_LENGTH, tokenHash } from "./tokens.ts";

export interface HostJwtConfig {
  secret?: string;
  jwksUrl?: string;
  jwksTimeoutMs: number;
  issuer?: string;
  audience?: string;
  emailClaim: string;
  nameClaim: string;
  pictureClaim: string;
}

const HMAC_ALGS = ["HS256", "HS384", "HS512"] as const;
const ASYMMETRIC_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"] as const;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

const unauthorized = () => new AppError("UNAUTHORIZED", "invalid or expired token");

export function createHostJwtVerifier(cfg: HostJwtConfig): TokenVerifier {
  const verification = { iss: cfg.issuer, aud: cfg.audience };
  const jwks = cfg.jwksUrl ? createJwksCache(cfg.jwksUrl, cfg.jwksTimeoutMs) : undefined;

  // `return await`: the rejection is then handled inside this frame; with a bare `return`, Bun's test
  // runner reports hono's error as unhandled although the caller catches it.
  async function payloadOf(token: string): Promise<Record<string, unknown>> {
    const { header } = Jwt.decode(token);
    if (jwks) {
      if (typeof header.kid !== "string") throw unauthorized();
      const keys = await jwks.keysFor(header.kid);
      return await Jwt.verifyWithJwks(token, { keys, allowedAlgorithms: ASYMMETRIC_ALGS, verification });
    }
    const alg = HMAC_ALGS.find((a) => a === header.alg);
    if (!alg) throw unauthorized();
    return await Jwt.verify(token, cfg.secret!, { alg, ...verification });
  }

  return {
    async verify(token) {
      if (token.length > MAX_TOKEN_LENGTH) throw unauthorized();
      let payload: Record<string, unknown>;
      try {
        payload = await payloadOf(token);
      } catch {
        throw unauthorized();
      }
      if (typeof payload.exp !== "number") throw new AppError("UNAUTHORIZED", "token has no expiry");
      const email = payload[cfg.emailClaim];
      if (typeof email !== "string" || !EMAIL.test(email) || email.length > 254) throw new AppError("UNAUTHORIZED", "token has no usable email claim");
      const name = payload[cfg.nameClaim];
      const picture = payload[cfg.pictureClaim];
      const identity: Identity = {
        email: email.trim().toLowerCase(),
        jti: typeof payload.jti === "string" && payload.jti.length > 0 ? payload.jti : tokenHash(token),
        expiresAt: payload.exp * 1000,
      };
      if (typeof name === "string" && name.trim().length > 0) identity.name = name.trim().slice(0, 100);
      if (typeof picture === "string" && /^https?:\/\//.test(picture) && picture.length <= 2048) identity.picture = picture;
      return identity;
    },
  };
}
