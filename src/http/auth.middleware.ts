/**
 * Requires `Authorization: Bearer <token>`, verified by the Authenticator (whatever the
 * AUTH_MODE), and puts the caller's email and identity in `c.var`.
 */
import { createMiddleware } from "hono/factory";
import type { Authenticator, Identity } from "../auth/identity.ts";
import { bearerToken } from "../auth/tokens.ts";

export interface AuthEnv {
  /** `ip`: the peer address Bun saw (set by the server's fetch; absent under app.request in tests). */
  Bindings: { ip?: string };
  Variables: { email: string; identity: Identity };
}

export const requireAuth = (auth: Authenticator) =>
  createMiddleware<AuthEnv>(async (c, next) => {
    const identity = await auth.verify(bearerToken(c.req.header("authorization")));
    c.set("identity", identity);
    c.set("email", identity.email);
    await next();
  });
