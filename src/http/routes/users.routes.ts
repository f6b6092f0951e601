/** GET /api/users/me and GET /api/users/search. */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { UsersService } from "../../domain/users.service.ts";
import { SearchQuerySchema } from "../../domain/schemas.ts";
import { userView } from "../../domain/views.ts";
import type { AuthEnv } from "../auth.middleware.ts";
import { validationHook } from "../errors.ts";
import { errorResponses, notFound, okJson, UserSchema } from "../schemas.ts";

const security = [{ bearerAuth: [] }];

const me = createRoute({
  method: "get",
  path: "/api/users/me",
  tags: ["users"],
  summary: "The current user",
  security,
  responses: { 200: okJson(UserSchema, "The current user"), ...notFound, ...errorResponses },
});

const search = createRoute({
  method: "get",
  path: "/api/users/search",
  tags: ["users"],
  summary: "Search users by name or email (case-insensitive substring; the caller is excluded)",
  security,
  request: {
    query: SearchQuerySchema.extend({
      limit: z.coerce.number().int().min(1).max(100).optional().openapi({ description: "At most SEARCH_RESULT_LIMIT" }),
    }),
  },
  responses: { 200: okJson(z.array(UserSchema), "Matching users, by name"), ...errorResponses },
});

export function usersRoutes(deps: { users: UsersService }) {
  return new OpenAPIHono<AuthEnv>({ defaultHook: validationHook })
    .openapi(me, async (c) => c.json(userView(await deps.users.me(c.var.email)), 200))
    .openapi(search, async (c) => {
      const { query, limit } = c.req.valid("query");
      const users = await deps.users.search(c.var.email, query, limit);
      return c.json(users.map(userView), 200);
    });
}
