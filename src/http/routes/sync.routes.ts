/** GET /api/sync: what changed in the caller's conversations since a cursor (see domain/sync.service.ts). */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { syncSchema } from "../../domain/schemas.ts";
import type { SyncService } from "../../domain/sync.service.ts";
import { syncPageView } from "../../domain/views.ts";
import type { AuthEnv } from "../auth.middleware.ts";
import { validationHook } from "../errors.ts";
import { bearerSecurity, ConversationSchema, errorResponses, MessageSchema, okJson } from "../schemas.ts";

export const SyncPageSchema = z
  .object({
    conversations: z.array(ConversationSchema).openapi({ description: "Conversations with activity since the cursor, current state" }),
    messages: z.array(MessageSchema).openapi({ description: "Their new messages: oldest conversation first, each by seq. May repeat messages you have: dedupe by id" }),
    has_more: z.boolean().openapi({ description: "Call again with `cursor` for the rest" }),
    cursor: z.string().openapi({ description: "Opaque: pass as `since` next time" }),
  })
  .openapi("SyncPage");

const route = (maxLimit: number) =>
  createRoute({
    method: "get",
    path: "/api/sync",
    tags: ["sync"],
    summary: "What changed in the caller's conversations since a cursor",
    description:
      "For a client that was away longer than connection-state recovery covers, or across a server restart. " +
      "Without `since`: an empty page and a cursor meaning 'from now on' (store it before you start listening). " +
      "Cost: the caller's conversations and the new messages, never a scan. The socket event `sync {since, limit}` answers the same in its ack.",
    security: bearerSecurity,
    request: { query: syncSchema(maxLimit).extend({ limit: syncSchema(maxLimit).shape.limit.openapi({ description: `Messages per page, at most ${maxLimit}` }) }) },
    responses: { 200: okJson(SyncPageSchema, "A page of changes"), ...errorResponses },
  });

export function syncRoutes(deps: { sync: SyncService; maxLimit: number }) {
  return new OpenAPIHono<AuthEnv>({ defaultHook: validationHook }).openapi(route(deps.maxLimit), async (c) => {
    const { since, limit } = c.req.valid("query");
    return c.json(syncPageView(await deps.sync.changes(c.var.email, since, limit)), 200);
  });
}
