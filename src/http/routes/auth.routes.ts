/**
 * POST /api/auth/login and POST /api/auth/logout.
 * Login depends on AUTH_MODE: `open` (anyone, by email; for development),
 * `trusted` (only the host backend, with X-API-Key), `jwt` (disabled: the host's
 * own tokens are used directly). Logout revokes the presented token by its jti.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AuthMode } from "../../auth/identity.ts";
import { disabledUserKey, type RevocationStore } from "../../auth/revocations.ts";
import type { Tokens } from "../../auth/tokens.ts";
import type { UsersService } from "../../domain/users.service.ts";
import { LoginSchema } from "../../domain/schemas.ts";
import { userView } from "../../domain/views.ts";
import { AppError } from "../../errors.ts";
import type { RateLimiter } from "../../limits/rate-limiter.ts";
import type { Logger } from "../../logger.ts";
import type { AuthEnv } from "../auth.middleware.ts";
import { validationHook } from "../errors.ts";
import { clientIp, tooManyRequests } from "../rate-limit.middleware.ts";
import { bearerSecurity, errorResponse, errorResponses, jsonBody, LoginResponseSchema, okJson, rateLimited } from "../schemas.ts";

const login = createRoute({
  method: "post",
  path: "/api/auth/login",
  tags: ["auth"],
  summary: "Log in (registers the user on first login) and get an access token",
  description:
    "AUTH_MODE=open: anyone, by email (development only; an existing user's name and image are not changed). " +
    "AUTH_MODE=trusted: only the host backend, with `X-API-Key`; name and image update the profile. " +
    "AUTH_MODE=jwt: disabled (403 LOGIN_DISABLED); use the host application's tokens directly.",
  request: {
    headers: z.object({ "x-api-key": z.string().optional().openapi({ description: "AUTH_MODE=trusted: one of AUTH_API_KEYS" }) }),
    ...jsonBody(LoginSchema.openapi("LoginRequest")),
  },
  responses: {
    200: okJson(LoginResponseSchema, "Access token and the user"),
    ...errorResponses,
    401: errorResponse("INVALID_API_KEY: missing or wrong X-API-Key (trusted mode)"),
    403: errorResponse("LOGIN_DISABLED: AUTH_MODE=jwt; USER_DISABLED: the host disabled this user (admin API)"),
    ...rateLimited,
  },
});

const logout = createRoute({
  method: "post",
  path: "/api/auth/logout",
  tags: ["auth"],
  summary: "Revoke the presented token: REST answers 401 with it from now on, and its sockets are disconnected",
  security: bearerSecurity,
  responses: { 204: { description: "Revoked" }, ...errorResponses },
});

export interface AuthRoutesDeps {
  mode: AuthMode;
  users: UsersService;
  tokens: Tokens;
  revocations: RevocationStore;
  apiKeyValid: (key: string | undefined) => boolean;
  loginPerIp: RateLimiter;
  signupPerIp: RateLimiter;
  trustProxy: boolean;
  log: Logger;
}

export function authRoutes(d: AuthRoutesDeps) {
  return new OpenAPIHono<AuthEnv>({ defaultHook: validationHook })
    .openapi(login, async (c) => {
      if (d.mode === "jwt") throw new AppError("LOGIN_DISABLED", "login is disabled: use the host application's token");
      const ip = clientIp(c, d.trustProxy);
      // The host backend (valid key) logs in all its users from one address: only others are counted per IP.
      const hostCall = d.mode === "trusted" && d.apiKeyValid(c.req.header("x-api-key"));
      if (!hostCall) {
        const limited = await d.loginPerIp.take(ip);
        if (!limited.ok) tooManyRequests(c, limited, d.log, "login_per_ip", ip);
      }
      if (d.mode === "trusted" && !hostCall) {
        d.log.warn("audit: login refused, invalid API key", { ip });
        throw new AppError("INVALID_API_KEY", "missing or invalid X-API-Key");
      }
      const input = c.req.valid("json");
      if (d.revocations.isRevoked(disabledUserKey(input.email))) throw new AppError("USER_DISABLED", "user is disabled");
      if (!hostCall && !(await d.users.exists(input.email))) {
        const signup = await d.signupPerIp.take(ip);
        if (!signup.ok) tooManyRequests(c, signup, d.log, "signup_per_ip", ip);
      }
      const user = await d.users.login(input, hostCall ? "host" : "self-asserted");
      const { token, expiresAt } = await d.tokens.issue(user.email);
      d.log.info("audit: login", { email: user.email, mode: d.mode, ip });
      return c.json(
        { access_token: token, token_type: "bearer" as const, expires_at: expiresAt.toISOString(), user: userView(user) },
        200,
      );
    })
    .openapi(logout, async (c) => {
      const { jti, email, expiresAt } = c.var.identity;
      await d.revocations.revoke(jti, email, expiresAt);
      d.log.info("audit: token revoked", { email, jti });
      return c.body(null, 204);
    });
}
