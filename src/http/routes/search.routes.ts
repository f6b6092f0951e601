/** GET /api/messages/search: the caller's messages matching a query (see domain/message-search.ts). */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { MessageSearch } from "../../domain/message-search.ts";
import { ObjectIdSchema } from "../../domain/schemas.ts";
import { messageView } from "../../domain/views.ts";
import type { AuthEnv } from "../auth.middleware.ts";
import { validationHook } from "../errors.ts";
import { bearerSecurity, errorResponses, MessageSchema, notFound, okJson, rateLimited } from "../schemas.ts";

export const SEARCH_QUERY_MAX = 200;

const SearchPageSchema = z
  .object({
    messages: z.array(MessageSchema).openapi({ description: "Newest first" }),
    next_cursor: z.string().nullable().openapi({ description: "Pass as `cursor` for older matches; null when there are none" }),
  })
  .openapi("MessageSearchPage");

const search = (pageMax: number) =>
  createRoute({
    method: "get",
    path: "/api/messages/search",
    tags: ["messages"],
    summary: "Search your messages (only conversations you are a member of), newest first",
    description:
      "Case-insensitive; each word of `q` must start a word of the message (`hel wor` finds \"Hello, world\"). " +
      "`q` is taken literally (no regex, no operators). A page may hold fewer than `limit` messages while `next_cursor` is set: keep paging.",
    security: bearerSecurity,
    request: {
      query: z.object({
        q: z.string().trim().min(1).max(SEARCH_QUERY_MAX).openapi({ example: "invoice" }),
        conversation_id: ObjectIdSchema.optional().openapi({ description: "Only this conversation (404 if you are not in it)" }),
        limit: z.coerce.number().int().min(1).max(pageMax).default(Math.min(20, pageMax)),
        cursor: z.string().max(200).optional().openapi({ description: "next_cursor of the previous page" }),
      }),
    },
    responses: { 200: okJson(SearchPageSchema, "Matching messages, newest first"), ...notFound, ...errorResponses, ...rateLimited },
  });

export function searchRoutes(deps: { search: MessageSearch; pageMax: number }) {
  return new OpenAPIHono<AuthEnv>({ defaultHook: validationHook }).openapi(search(deps.pageMax), async (c) => {
    const page = await deps.search.search(c.var.email, c.req.valid("query"));
    return c.json({ messages: page.messages.map(messageView), next_cursor: page.next_cursor }, 200);
  });
}
