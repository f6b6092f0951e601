/** Conversations (direct and group): list, start a direct one, history, mark read. All require a member. */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { ConversationsService } from "../../domain/conversations.service.ts";
import { MarkReadSchema, StartConversationSchema } from "../../domain/schemas.ts";
import { conversationView, messageView } from "../../domain/views.ts";
import type { AuthEnv } from "../auth.middleware.ts";
import { validationHook } from "../errors.ts";
import { bearerSecurity, ConversationIdParam, ConversationSchema, errorResponses, jsonBody, MarkReadResponseSchema, MessageSchema, notFound, okJson, rateLimited } from "../schemas.ts";

const security = bearerSecurity;

const listQuery = (max: number) =>
  z.object({
    limit: z.coerce.number().int().min(1).max(max).default(Math.min(100, max)).openapi({ description: `Page size, at most ${max}` }),
    before: z
      .string()
      .max(64)
      .optional()
      .openapi({ description: "Cursor from the X-Next-Cursor header of the previous page: continue with older conversations" }),
  });

const list = (max: number) =>
  createRoute({
    method: "get",
    path: "/api/conversations",
    tags: ["conversations"],
    summary: "A page of the caller's conversations, most recent activity first",
    description: "Header X-Next-Cursor: pass it as `before` for the next page (absent on the last page).",
    security,
    request: { query: listQuery(max) },
    responses: { 200: okJson(z.array(ConversationSchema), "Conversations"), ...errorResponses },
  });

const start = createRoute({
  method: "post",
  path: "/api/conversations/start",
  tags: ["conversations"],
  summary: "Start (or get) the direct conversation with another user; idempotent from either side",
  security,
  request: jsonBody(StartConversationSchema.openapi("StartConversationRequest")),
  responses: {
    200: okJson(ConversationSchema, "The existing conversation"),
    201: okJson(ConversationSchema, "The new conversation"),
    ...notFound,
    ...errorResponses,
    ...rateLimited,
  },
});

const seq = (description: string) => z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional().openapi({ description });

export const pageQuery = (max: number) =>
  z
    .object({
      skip: z.coerce.number().int().min(0).max(1_000_000).optional().openapi({ description: "How many of the newest messages to skip" }),
      before: seq("Cursor: the messages just before this seq (older), newest page first"),
      after: seq("Cursor: the messages just after this seq (newer), to catch up"),
      limit: z.coerce.number().int().min(1).max(max).default(50).openapi({ description: `Page size, at most ${max}` }),
    })
    .refine((q) => [q.skip, q.before, q.after].filter((v) => v !== undefined).length <= 1, {
      message: "use at most one of skip, before and after",
    });

const messages = (max: number) =>
  createRoute({
    method: "get",
    path: "/api/conversations/{conversation_id}/messages",
    tags: ["conversations"],
    summary: "A page of messages, returned oldest first: the newest, by skip, or by a seq cursor (before / after)",
    description:
      "Headers: X-Total-Count (messages in the conversation, kept on the conversation: no count query) and X-Has-More " +
      "(more messages beyond this page in the direction read: older for skip and before, newer for after). " +
      "Cursor pages cost the page whatever the history's length; prefer them to skip.",
    security,
    request: { params: ConversationIdParam, query: pageQuery(max) },
    responses: { 200: okJson(z.array(MessageSchema), "Messages, oldest first"), ...notFound, ...errorResponses },
  });

// The socket event's rules (MarkReadSchema) without its conversation_id, which is in the path here.
const MarkReadBody = z
  .object({ up_to_seq: MarkReadSchema.shape.up_to_seq.openapi({ description: "Read up to this seq (default: everything)" }) })
  .openapi("MarkReadRequest");

const markRead = createRoute({
  method: "post",
  path: "/api/conversations/{conversation_id}/mark-read",
  tags: ["conversations"],
  summary: "Move the caller's read pointer (never backwards); the other members are told in real time (messages_read)",
  description: "Without a body (or without up_to_seq): everything is read and the unread count becomes 0.",
  security,
  request: { params: ConversationIdParam, body: { required: false, content: { "application/json": { schema: MarkReadBody } } } },
  responses: { 200: okJson(MarkReadResponseSchema, "Read"), ...notFound, ...errorResponses, ...rateLimited },
});

export function conversationsRoutes(deps: { conversations: ConversationsService; pageMax: number; listMax: number }) {
  return new OpenAPIHono<AuthEnv>({ defaultHook: validationHook })
    .openapi(list(deps.listMax), async (c) => {
      const { limit, before } = c.req.valid("query");
      const page = await deps.conversations.list(c.var.email, limit, before);
      if (page.next_cursor) c.header("X-Next-Cursor", page.next_cursor);
      return c.json(page.conversations.map(conversationView), 200);
    })
    .openapi(start, async (c) => {
      const { conversation, created } = await deps.conversations.start(c.var.email, c.req.valid("json").to_email);
      return created ? c.json(conversationView(conversation), 201) : c.json(conversationView(conversation), 200);
    })
    .openapi(messages(deps.pageMax), async (c) => {
      const { skip, before, after, limit } = c.req.valid("query");
      const at = before !== undefined ? { before } : after !== undefined ? { after } : { skip: skip ?? 0 };
      const page = await deps.conversations.history(c.req.valid("param").conversation_id, c.var.email, at, limit);
      c.header("X-Total-Count", String(page.total));
      c.header("X-Has-More", String(page.has_more));
      return c.json(page.messages.map(messageView), 200);
    })
    .openapi(markRead, async (c) => {
      const { up_to_seq } = c.req.valid("json") ?? {};
      const r = await deps.conversations.markRead(c.req.valid("param").conversation_id, c.var.email, up_to_seq);
      return c.json(
        { conversation_id: r.conversation.id, unread_count: r.unread_count, read_at: r.read_at.toISOString(), last_read_seq: r.last_read_seq },
        200,
      );
    });
}
