/** Conversations: list, start, history, mark read. All require a participant. */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { ConversationsService } from "../../domain/conversations.service.ts";
import { StartConversationSchema } from "../../domain/schemas.ts";
import { conversationView, messageView } from "../../domain/views.ts";
import type { AuthEnv } from "../auth.middleware.ts";
import { validationHook } from "../errors.ts";
import { ConversationIdParam, ConversationSchema, errorResponses, MarkReadResponseSchema, MessageSchema, notFound, okJson, rateLimited } from "../schemas.ts";

const security = [{ bearerAuth: [] }];

const list = createRoute({
  method: "get",
  path: "/api/conversations",
  tags: ["conversations"],
  summary: "The caller's conversations, most recent activity first",
  security,
  responses: { 200: okJson(z.array(ConversationSchema), "Conversations"), ...errorResponses },
});

const start = createRoute({
  method: "post",
  path: "/api/conversations/start",
  tags: ["conversations"],
  summary: "Start (or get) the direct conversation with another user; idempotent from either side",
  security,
  request: {
    body: { required: true, content: { "application/json": { schema: StartConversationSchema.openapi("StartConversationRequest") } } },
  },
  responses: {
    200: okJson(ConversationSchema, "The existing conversation"),
    201: okJson(ConversationSchema, "The new conversation"),
    ...notFound,
    ...errorResponses,
    ...rateLimited,
  },
});

export const pageQuery = (max: number) =>
  z.object({
    skip: z.coerce.number().int().min(0).max(1_000_000).default(0).openapi({ description: "How many of the newest messages to skip" }),
    limit: z.coerce.number().int().min(1).max(max).default(50).openapi({ description: `Page size, at most ${max}` }),
  });

const messages = (max: number) =>
  createRoute({
    method: "get",
    path: "/api/conversations/{conversation_id}/messages",
    tags: ["conversations"],
    summary: "A page of messages: skip counts from the newest; the page is returned oldest first",
    description:
      "Headers: X-Total-Count (messages in the conversation) and X-Has-More (older messages exist beyond this page).",
    security,
    request: { params: ConversationIdParam, query: pageQuery(max) },
    responses: { 200: okJson(z.array(MessageSchema), "Messages, oldest first"), ...notFound, ...errorResponses },
  });

const markRead = createRoute({
  method: "post",
  path: "/api/conversations/{conversation_id}/mark-read",
  tags: ["conversations"],
  summary: "Reset the caller's unread count; the other participant is told in real time (messages_read)",
  security,
  request: { params: ConversationIdParam },
  responses: { 200: okJson(MarkReadResponseSchema, "Read"), ...notFound, ...errorResponses, ...rateLimited },
});

export function conversationsRoutes(deps: { conversations: ConversationsService; pageMax: number }) {
  return new OpenAPIHono<AuthEnv>({ defaultHook: validationHook })
    .openapi(list, async (c) => c.json((await deps.conversations.list(c.var.email)).map(conversationView), 200))
    .openapi(start, async (c) => {
      const { conversation, created } = await deps.conversations.start(c.var.email, c.req.valid("json").to_email);
      return created ? c.json(conversationView(conversation), 201) : c.json(conversationView(conversation), 200);
    })
    .openapi(messages(deps.pageMax), async (c) => {
      const { skip, limit } = c.req.valid("query");
      const page = await deps.conversations.history(c.req.valid("param").conversation_id, c.var.email, skip, limit);
      c.header("X-Total-Count", String(page.total));
      c.header("X-Has-More", String(page.has_more));
      return c.json(page.messages.map(messageView), 200);
    })
    .openapi(markRead, async (c) => {
      const { conversation, read_at } = await deps.conversations.markRead(c.req.valid("param").conversation_id, c.var.email);
      return c.json(
        { conversation_id: conversation.id, unread_count: conversation.unread_count[c.var.email] ?? 0, read_at: read_at.toISOString() },
        200,
      );
    });
}
