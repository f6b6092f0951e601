/** Requires `Authorization: Bearer <token>` and puts the caller's email in `c.var.email`. */
import { createMiddleware } from "hono/factory";
import { bearerToken, type Tokens } from "../auth/tokens.ts";

export interface AuthEnv {
  Variables: { email: string };
}

export const requireAuth = (tokens: Tokens) =>
  createMiddleware<AuthEnv>(async (c, next) => {
    c.set("email", await tokens.verify(bearerToken(c.req.header("authorization"))));
    await next();
  });
