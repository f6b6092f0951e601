/** POST /api/messages/send: the same domain path as the socket event, delivered live the same way. */
import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { MessagesService } from "../../domain/messages.service.ts";
import type { UsersService } from "../../domain/users.service.ts";
import { sendMessageSchema } from "../../domain/schemas.ts";
import { messageView } from "../../domain/views.ts";
import type { AuthEnv } from "../auth.middleware.ts";
import { validationHook } from "../errors.ts";
import { bearerSecurity, errorResponses, notFound, okJson, rateLimited, SendMessageResponseSchema } from "../schemas.ts";

const send = (maxLength: number) =>
  createRoute({
    method: "post",
    path: "/api/messages/send",
    tags: ["messages"],
    summary: "Send a message: to_email (direct; creates the conversation if needed) or conversation_id (any of yours, groups too)",
    description:
      "Both or neither of to_email and conversation_id: 422. Every member's sockets receive `new_message`, every member but " +
      "the sender's also `message_notification` with their own unread count. " +
      "With `client_id`, a re-send returns the stored message (200, duplicate: true) instead of storing it twice.",
    security: bearerSecurity,
    request: {
      body: {
        required: true,
        content: { "application/json": { schema: sendMessageSchema(maxLength).openapi("SendMessageRequest") } },
      },
    },
    responses: {
      201: okJson(SendMessageResponseSchema, "Stored and delivered"),
      200: okJson(SendMessageResponseSchema, "Duplicate of a stored message (same client_id)"),
      ...notFound,
      ...errorResponses,
      ...rateLimited,
    },
  });

export function messagesRoutes(deps: { messages: MessagesService; users: UsersService; maxLength: number }) {
  return new OpenAPIHono<AuthEnv>({ defaultHook: validationHook }).openapi(send(deps.maxLength), async (c) => {
    // The cached profile (as sockets use): a send costs no user lookup.
    const me = await deps.users.profile(c.var.email);
    const r = await deps.messages.send({ email: me.email, name: me.name }, c.req.valid("json"));
    const body = { message: messageView(r.message), duplicate: !r.created };
    return r.created ? c.json(body, 201) : c.json(body, 200);
  });
}
