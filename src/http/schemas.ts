/** Response and shared schemas for the OpenAPI document. */
import { z } from "@hono/zod-openapi";
import { EmailSchema, MESSAGE_TYPES, ROLES } from "../domain/schemas.ts";

const DateTime = z.string().openapi({ format: "date-time", example: "2026-01-01T12:00:00.000Z" });

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "CONVERSATION_NOT_FOUND" }),
      message: z.string().openapi({ example: "conversation not found" }),
      details: z.unknown().optional(),
    }),
  })
  .openapi("Error");

export const UserSchema = z
  .object({
    id: z.string(),
    email: z.string().openapi({ example: "ada@example.com" }),
    name: z.string().openapi({ example: "Ada Lovelace" }),
    profile_image: z.string().nullable(),
    is_online: z.boolean(),
    last_seen: DateTime.nullable(),
  })
  .openapi("User");

export const PublicUserSchema = z
  .object({ id: z.string(), email: z.string(), name: z.string(), profile_image: z.string().nullable() })
  .openapi("PublicUser", { description: "Another user as anyone may see them: no presence (only contacts see it)" });

export const LoginResponseSchema = z
  .object({ access_token: z.string(), token_type: z.literal("bearer"), expires_at: DateTime, user: UserSchema })
  .openapi("LoginResponse");

export const ConversationSchema = z
  .object({
    id: z.string(),
    participants: z.array(z.string()).openapi({ description: "Direct: the sorted pair. Group: the members in join order" }),
    conversation_type: z.enum(["direct", "group"]),
    title: z.string().optional().openapi({ description: "Groups only" }),
    roles: z
      .record(z.string(), z.enum(ROLES))
      .optional()
      .openapi({ description: "Groups only: each member's role", example: { "ada@example.com": "owner", "bob@example.com": "member" } }),
    created_at: DateTime,
    last_message: z.string().nullable().openapi({ description: "First 200 characters of the last message" }),
    last_message_time: DateTime.nullable(),
    last_message_sender: z.string().nullable(),
    unread_count: z
      .record(z.string(), z.number().int())
      .openapi({ description: "Direct: both participants'. Group: only the caller's", example: { "ada@example.com": 0, "bob@example.com": 3 } }),
  })
  .openapi("Conversation");

export const MessageSchema = z
  .object({
    id: z.string(),
    conversation_id: z.string(),
    sender_email: z.string(),
    sender_name: z.string(),
    message: z.string(),
    message_type: z.enum(MESSAGE_TYPES),
    timestamp: DateTime,
    edited: z.boolean(),
    edited_at: DateTime.nullable(),
    reply_to: z.string().nullable(),
    client_id: z.string().nullable(),
    seq: z.number().int().openapi({ description: "Position in the conversation, strictly increasing" }),
    deleted: z.boolean().openapi({ description: "A tombstone: text and reactions removed, seq kept" }),
    reactions: z
      .record(z.string(), z.array(z.string()))
      .openapi({ description: "emoji → the users who reacted with it", example: { "👍": ["bob@example.com"] } }),
  })
  .openapi("Message");

export const ReadStateSchema = z
  .array(z.object({ email: z.string(), last_read_seq: z.number().int(), read_at: DateTime.nullable() }))
  .openapi("ReadState", { description: "Every member's read pointer (\"seen by\")" });

export const SendMessageResponseSchema = z
  .object({ message: MessageSchema, duplicate: z.boolean().openapi({ description: "true when client_id matched a stored message" }) })
  .openapi("SendMessageResponse");

export const MarkReadResponseSchema = z
  .object({
    conversation_id: z.string(),
    unread_count: z.number().int().openapi({ description: "The caller's unread count after the read" }),
    read_at: DateTime,
    last_read_seq: z.number().int().openapi({ description: "Every message up to this seq counts as read" }),
  })
  .openapi("MarkReadResponse");

export const MessageIdParam = z.object({
  message_id: z.string().openapi({ param: { name: "message_id", in: "path" }, example: "65f1c0ffee0123456789abcd" }),
});

export const ConversationIdParam = z.object({
  conversation_id: z
    .string()
    .openapi({ param: { name: "conversation_id", in: "path" }, example: "65f1c0ffee0123456789abcd" }),
});

/** A user's email in the path, validated (and normalised) as everywhere else: a malformed one is a 422. */
export const EmailParam = z.object({
  email: EmailSchema.openapi({ param: { name: "email", in: "path" }, example: "bob@example.com", description: "URL-encoded email" }),
});

const json = (schema: z.ZodType, description: string) => ({ content: { "application/json": { schema } }, description });

export const errorResponses = {
  400: json(ErrorSchema, "Malformed request (e.g. invalid JSON)"),
  401: json(ErrorSchema, "Missing, invalid, expired or revoked token"),
  422: json(ErrorSchema, "Request failed validation"),
  413: json(ErrorSchema, "Request body too large"),
  500: json(ErrorSchema, "Unexpected server error"),
  503: json(ErrorSchema, "DATABASE_UNAVAILABLE: the database is unreachable, retry later"),
} as const;

export const errorResponse = (description: string) => json(ErrorSchema, description);

const rateHeader = (description: string) => ({ schema: { type: "integer" as const }, description });

/** A budgeted route's 429: RATE_LIMITED with Retry-After and the IETF RateLimit-* headers. */
export const rateLimited = {
  429: {
    ...json(ErrorSchema, "RATE_LIMITED: over the budget; `details.retry_after_ms` says when to retry"),
    headers: {
      "Retry-After": rateHeader("Seconds until a retry may succeed"),
      "RateLimit-Limit": rateHeader("Requests allowed per window"),
      "RateLimit-Remaining": rateHeader("Requests left in the current window"),
      "RateLimit-Reset": rateHeader("Seconds until the window resets"),
    },
  },
} as const;

export const notFound = { 404: json(ErrorSchema, "Not found (or not yours)") } as const;
export const forbidden = { 403: json(ErrorSchema, "FORBIDDEN: a member without the role this needs") } as const;
export const okJson = json;

/** A required JSON request body validated by `schema`: spread into a route's `request`. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({ body: { required: true, content: { "application/json": { schema } } } });

/** The routes a user token authenticates. */
export const bearerSecurity = [{ bearerAuth: [] }];

/** What a member-only write may answer besides its success: a missing role, not a member (or no such thing), bad input, over budget. */
export const memberRefusals = { ...forbidden, ...notFound, ...errorResponses, ...rateLimited } as const;
