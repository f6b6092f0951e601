/**
 * The host application's server-to-server user API: PUT/DELETE
 * /api/admin/users/{email} and POST /api/admin/users:batch. Authenticated by
 * `X-API-Key` (one of AUTH_API_KEYS) in every AUTH_MODE, never by a user token;
 * without configured keys the API is off (403 ADMIN_API_DISABLED). Every call is
 * audit-logged (who by IP, what, never the key).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { AdminBatchSchema, AdminUserBodySchema, ADMIN_BATCH_MAX } from "../../domain/schemas.ts";
import type { AdminUser, UserAdminService } from "../../domain/user-admin.service.ts";
import { userView } from "../../domain/views.ts";
import { AppError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import type { AuthEnv } from "../auth.middleware.ts";
import { validationHook } from "../errors.ts";
import { clientIp } from "../rate-limit.middleware.ts";
import { EmailParam, errorResponse, errorResponses, jsonBody, notFound, okJson, UserSchema } from "../schemas.ts";

const security = [{ apiKey: [] }];
const AdminUserViewSchema = UserSchema.extend({ disabled: z.boolean() }).openapi("AdminUser");
const keyErrors = {
  401: errorResponse("INVALID_API_KEY: missing or wrong X-API-Key"),
  403: errorResponse("ADMIN_API_DISABLED: no AUTH_API_KEYS configured"),
};

const put = createRoute({
  method: "put",
  path: "/api/admin/users/{email}",
  tags: ["admin"],
  summary: "Create or update a user from the host's data; `disabled` disables or re-enables them",
  description:
    "Name and profile_image overwrite the stored ones; a change reaches the user's contacts as `user_updated`. " +
    "`disabled: true`: as DELETE; `disabled: false`: their tokens are honoured again. Absent: unchanged.",
  security,
  request: { params: EmailParam, ...jsonBody(AdminUserBodySchema.openapi("AdminUserRequest")) },
  responses: {
    200: okJson(AdminUserViewSchema, "The updated user"),
    201: okJson(AdminUserViewSchema, "The created user"),
    ...errorResponses,
    ...keyErrors,
  },
});

const disable = createRoute({
  method: "delete",
  path: "/api/admin/users/{email}",
  tags: ["admin"],
  summary: "Disable a user: their tokens are refused (USER_DISABLED), their sockets disconnected; their messages stay",
  security,
  request: { params: EmailParam },
  responses: { 200: okJson(AdminUserViewSchema, "The disabled user"), ...notFound, ...errorResponses, ...keyErrors },
});

const BatchResultSchema = z
  .object({ results: z.array(z.object({ email: z.string(), created: z.boolean(), user: AdminUserViewSchema })) })
  .openapi("AdminBatchResult");

const batch = createRoute({
  method: "post",
  path: "/api/admin/users:batch",
  tags: ["admin"],
  summary: `Create or update up to ${ADMIN_BATCH_MAX} users at once (initial sync)`,
  description: "Each user is validated first (422 names the bad ones, nothing is written); then each is handled as by PUT, in order.",
  security,
  request: jsonBody(AdminBatchSchema.openapi("AdminBatchRequest")),
  responses: { 200: okJson(BatchResultSchema, "One result per user, in request order"), ...errorResponses, ...keyErrors },
});

const adminView = (u: AdminUser) => ({ ...userView(u), disabled: u.disabled });

export interface AdminRoutesDeps {
  admin: UserAdminService;
  trustProxy: boolean;
  log: Logger;
}

export interface ApiKeyDeps {
  /** false when no AUTH_API_KEYS are configured: the API is off. */
  enabled: boolean;
  apiKeyValid: (key: string | undefined) => boolean;
  trustProxy: boolean;
  log: Logger;
}

/** Refuses calls without a valid key; runs before validation, so nothing about the API leaks to strangers. */
export const requireApiKey = (d: ApiKeyDeps) =>
  createMiddleware<AuthEnv>(async (c, next) => {
    if (!d.enabled) throw new AppError("ADMIN_API_DISABLED", "the admin API is off: no AUTH_API_KEYS configured");
    if (!d.apiKeyValid(c.req.header("x-api-key"))) {
      d.log.warn("audit: admin call refused, invalid API key", { ip: clientIp(c, d.trustProxy), method: c.req.method, path: c.req.path });
      throw new AppError("INVALID_API_KEY", "missing or invalid X-API-Key");
    }
    await next();
  });

export function adminRoutes(d: AdminRoutesDeps) {
  const audit = (c: Parameters<typeof clientIp>[0], action: string, fields: Record<string, unknown>) =>
    d.log.info("audit: admin", { action, ip: clientIp(c, d.trustProxy), ...fields });
  return new OpenAPIHono<AuthEnv>({ defaultHook: validationHook })
    .openapi(put, async (c) => {
      const { email } = c.req.valid("param");
      const body = c.req.valid("json");
      const { user, created } = await d.admin.put({ ...body, email });
      audit(c, "put_user", { email, created, disabled: body.disabled });
      return c.json(adminView(user), created ? 201 : 200);
    })
    .openapi(disable, async (c) => {
      const { email } = c.req.valid("param");
      const user = await d.admin.disable(email);
      audit(c, "disable_user", { email });
      return c.json(adminView(user), 200);
    })
    .openapi(batch, async (c) => {
      const { users } = c.req.valid("json");
      const results = (await d.admin.putMany(users)).map(({ user, created }) => ({ email: user.email, created, user: adminView(user) }));
      audit(c, "batch_users", { count: users.length, created: results.filter((r) => r.created).length });
      return c.json({ results }, 200);
    });
}
