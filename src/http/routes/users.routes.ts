/** GET and PATCH /api/users/me, GET /api/users/search (public profile fields only). */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { UsersService } from "../../domain/users.service.ts";
import { SearchQuerySchema, UpdateProfileSchema } from "../../domain/schemas.ts";
import { publicUserView, userView } from "../../domain/views.ts";
import type { AuthEnv } from "../auth.middleware.ts";
import { validationHook } from "../errors.ts";
import { bearerSecurity, errorResponses, jsonBody, notFound, okJson, PublicUserSchema, rateLimited, UserSchema } from "../schemas.ts";

const security = bearerSecurity;

const me = createRoute({
  method: "get",
  path: "/api/users/me",
  tags: ["users"],
  summary: "The current user",
  security,
  responses: { 200: okJson(UserSchema, "The current user"), ...notFound, ...errorResponses },
});

const updateMe = createRoute({
  method: "patch",
  path: "/api/users/me",
  tags: ["users"],
  summary: "Change one's own name and/or profile image",
  security,
  request: jsonBody(UpdateProfileSchema.openapi("UpdateProfileRequest")),
  responses: { 200: okJson(UserSchema, "The updated user"), ...notFound, ...errorResponses, ...rateLimited },
});

const search = createRoute({
  method: "get",
  path: "/api/users/search",
  tags: ["users"],
  summary: "Search users by name or email (case-insensitive substring; the caller is excluded)",
  description: "Returns public profile fields only: presence (is_online, last_seen) is for contacts.",
  security,
  request: {
    query: SearchQuerySchema.extend({
      limit: z.coerce.number().int().min(1).max(100).optional().openapi({ description: "At most SEARCH_RESULT_LIMIT" }),
    }),
  },
  responses: { 200: okJson(z.array(PublicUserSchema), "Matching users, by name"), ...errorResponses, ...rateLimited },
});

export function usersRoutes(deps: { users: UsersService }) {
  return new OpenAPIHono<AuthEnv>({ defaultHook: validationHook })
    .openapi(me, async (c) => c.json(userView(await deps.users.me(c.var.email)), 200))
    .openapi(updateMe, async (c) => c.json(userView(await deps.users.updateProfile(c.var.email, c.req.valid("json"))), 200))
    .openapi(search, async (c) => {
      const { query, limit } = c.req.valid("query");
      const users = await deps.users.search(c.var.email, query, limit);
      return c.json(users.map(publicUserView), 200);
    });
}
