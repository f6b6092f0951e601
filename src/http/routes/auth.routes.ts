/** POST /api/auth/login: register on first login, then issue an access token. */
import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { Tokens } from "../../auth/tokens.ts";
import type { UsersService } from "../../domain/users.service.ts";
import { LoginSchema } from "../../domain/schemas.ts";
import { userView } from "../../domain/views.ts";
import { validationHook } from "../errors.ts";
import { errorResponses, LoginResponseSchema, okJson } from "../schemas.ts";

const login = createRoute({
  method: "post",
  path: "/api/auth/login",
  tags: ["auth"],
  summary: "Log in (registers the user on first login) and get an access token",
  request: {
    body: { required: true, content: { "application/json": { schema: LoginSchema.openapi("LoginRequest") } } },
  },
  responses: { 200: okJson(LoginResponseSchema, "Access token and the user"), ...errorResponses },
});

export function authRoutes(deps: { users: UsersService; tokens: Tokens }) {
  return new OpenAPIHono({ defaultHook: validationHook }).openapi(login, async (c) => {
    const user = await deps.users.login(c.req.valid("json"));
    const { token, expiresAt } = await deps.tokens.issue(user.email);
    return c.json(
      { access_token: token, token_type: "bearer" as const, expires_at: expiresAt.toISOString(), user: userView(user) },
      200,
    );
  });
}
