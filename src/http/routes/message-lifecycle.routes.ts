/**
 * A stored message's lifecycle over REST: edit, delete (tombstone) and
 * reactions. The rules live in MessageLifecycleService, shared with the
 * socket events (edit_message, delete_message, add_reaction, remove_reaction).
 */
import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { MessageLifecycleService } from "../../domain/message-lifecycle.service.ts";
import { editMessageSchema, EmojiSchema } from "../../domain/schemas.ts";
import { messageView } from "../../domain/views.ts";
import type { AuthEnv } from "../auth.middleware.ts";
import { validationHook } from "../errors.ts";
import { bearerSecurity, jsonBody, memberRefusals, MessageIdParam, MessageSchema, okJson } from "../schemas.ts";

const security = bearerSecurity;
const tags = ["messages"];
const refusals = memberRefusals;
const ReactionParam = MessageIdParam.extend({
  // Hono has decoded the path parameter; the emoji rules are the socket events'.
  emoji: EmojiSchema.openapi({ param: { name: "emoji", in: "path" }, example: "%F0%9F%91%8D", description: "URL-encoded: one emoji or a :short_code:" }),
});

const edit = (maxLength: number) =>
  createRoute({
    method: "patch",
    path: "/api/messages/{message_id}",
    tags,
    summary: "Edit your message (sender only); members get message_edited",
    security,
    request: { params: MessageIdParam, ...jsonBody(editMessageSchema(maxLength).openapi("EditMessageRequest")) },
    responses: { 200: okJson(MessageSchema, "The edited message (edited: true)"), ...refusals },
  });

const remove = createRoute({
  method: "delete",
  path: "/api/messages/{message_id}",
  tags,
  summary: "Delete a message (the sender, or an owner/admin of the group); members get message_deleted",
  description: "History keeps a tombstone at its seq (deleted: true, text and reactions removed); last_message is corrected.",
  security,
  request: { params: MessageIdParam },
  responses: { 200: okJson(MessageSchema, "The tombstone"), ...refusals },
});

const reaction = (method: "put" | "delete") =>
  createRoute({
    method,
    path: "/api/messages/{message_id}/reactions/{emoji}",
    tags,
    summary: method === "put" ? "React (idempotent; at most 20 distinct reactions per message)" : "Take your reaction back (idempotent)",
    description: "Members get reaction_updated with the message's reactions.",
    security,
    request: { params: ReactionParam },
    responses: { 200: okJson(MessageSchema, "The message with its reactions"), ...refusals },
  });

export function messageLifecycleRoutes(deps: { lifecycle: MessageLifecycleService; maxLength: number }) {
  const { lifecycle } = deps;
  return new OpenAPIHono<AuthEnv>({ defaultHook: validationHook })
    .openapi(edit(deps.maxLength), async (c) => {
      const m = await lifecycle.edit(c.var.email, c.req.valid("param").message_id, c.req.valid("json").message);
      return c.json(messageView(m), 200);
    })
    .openapi(remove, async (c) => c.json(messageView(await lifecycle.delete(c.var.email, c.req.valid("param").message_id)), 200))
    .openapi(reaction("put"), async (c) => {
      const { message_id, emoji } = c.req.valid("param");
      return c.json(messageView(await lifecycle.react(c.var.email, message_id, emoji, true)), 200);
    })
    .openapi(reaction("delete"), async (c) => {
      const { message_id, emoji } = c.req.valid("param");
      return c.json(messageView(await lifecycle.react(c.var.email, message_id, emoji, false)), 200);
    });
}
