/**
 * Builds the Authenticator for the configured AUTH_MODE: our own tokens (open,
 * trusted) or the host's (jwt), then the revocation check, then, for host
 * tokens, the user record kept in step with the token's claims.
 */
import { AppError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { Authenticator, AuthMode, Identity, TokenVerifier } from "./identity.ts";
import { disabledUserKey, type RevocationStore } from "./revocations.ts";

export interface AuthenticatorDeps {
  mode: AuthMode;
  verifier: TokenVerifier;
  revocations: RevocationStore;
  /** Creates or updates the user from a host token's claims (jwt mode). */
  syncUser: (identity: Identity) => Promise<void>;
  log: Logger;
}

export function createAuthenticator(d: AuthenticatorDeps): Authenticator {
  return {
    mode: d.mode,
    async verify(token) {
      if (typeof token !== "string" || token.length === 0) throw new AppError("UNAUTHORIZED", "missing token");
      let identity: Identity;
      try {
        identity = await d.verifier.verify(token);
        if (d.revocations.isRevoked(identity.jti)) throw new AppError("UNAUTHORIZED", "token revoked");
        if (d.revocations.isRevoked(disabledUserKey(identity.email))) throw new AppError("USER_DISABLED", "user is disabled");
      } catch (e) {
        d.log.info("audit: authentication failed", { reason: e instanceof AppError ? e.message : "error" });
        throw e;
      }
      if (d.mode === "jwt") await d.syncUser(identity);
      return identity;
    },
  };
}

/** Adapts our own token issuer/verifier (open and trusted modes) to the TokenVerifier port. */
export function ownTokenVerifier(tokens: { verifyClaims(t: string): Promise<{ email: string; jti: string; exp: number }> }): TokenVerifier {
  return {
    async verify(token) {
      const c = await tokens.verifyClaims(token);
      return { email: c.email, jti: c.jti, expiresAt: c.exp * 1000 };
    },
  };
}
