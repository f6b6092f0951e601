/**
 * The one port every entry point authenticates through: `verify(token) → Identity`.
 * REST middleware and the socket handshake both call it; the mode (open, trusted,
 * jwt) decides how a token is checked, the domain only ever sees an Identity.
 */
export type AuthMode = "open" | "trusted" | "jwt";

export interface Identity {
  email: string;
  /** Token id (revocation key). */
  jti: string;
  /** When the token stops being valid, ms since the epoch. */
  expiresAt: number;
  /** Profile claims of a host token (jwt mode); absent for our own tokens. */
  name?: string;
  picture?: string | null;
}

export interface Authenticator {
  readonly mode: AuthMode;
  /** A valid, unrevoked token's identity; throws AppError UNAUTHORIZED otherwise. */
  verify(token: string | null | undefined): Promise<Identity>;
}

/** Verifies tokens of one kind (ours, or the host application's), without revocation or user bookkeeping. */
export interface TokenVerifier {
  verify(token: string): Promise<Identity>;
}
