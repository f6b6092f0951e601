/**
 * Input rules shared by REST and socket handlers: one definition, so the two
 * entry points can never disagree on what is valid.
 */
import { z } from "zod";

/** Lower-cased, trimmed email; the identity of a user everywhere. */
export const EmailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email({ message: "must be a valid email address" }));

export const ObjectIdSchema = z.string().regex(/^[0-9a-fA-F]{24}$/, "must be a 24-character hex id").toLowerCase();

export const MESSAGE_TYPES = ["text", "image", "file", "audio", "video", "system"] as const;
/** What a client may send: "system" messages are the server's, so a user cannot forge one. */
export const CLIENT_MESSAGE_TYPES = ["text", "image", "file", "audio", "video"] as const;

export const LoginSchema = z.object({
  email: EmailSchema,
  name: z.string().trim().min(1).max(100),
  profile_image: z.url({ protocol: /^https?$/, message: "must be an http(s) URL" }).max(2048).nullable().optional(),
});

export const UpdateProfileSchema = LoginSchema.pick({ name: true, profile_image: true })
  .partial()
  .refine((v) => v.name !== undefined || v.profile_image !== undefined, { message: "give name or profile_image" });

/** A user as the host application sends it (admin API); `disabled` absent: left as it is. */
export const AdminUserBodySchema = z.object({
  name: z.string().trim().min(1).max(100),
  profile_image: LoginSchema.shape.profile_image,
  disabled: z.boolean().optional(),
});
export const AdminUserSchema = AdminUserBodySchema.extend({ email: EmailSchema });
export const ADMIN_BATCH_MAX = 1000;
export const AdminBatchSchema = z.object({ users: z.array(AdminUserSchema).min(1).max(ADMIN_BATCH_MAX) });
export type AdminUserInput = z.infer<typeof AdminUserSchema>;

export const StartConversationSchema = z.object({ to_email: EmailSchema });

const messageText = (maxLength: number) =>
  z
    .string()
    .max(maxLength, { message: `message is longer than ${maxLength} characters` })
    .refine((s) => s.trim().length > 0, { message: "message must not be empty" });

/**
 * The message length cap is configuration, so the schema is built from it. Either `to_email` (a direct
 * message, the conversation created on the first one) or `conversation_id` (any conversation of the sender).
 */
export const sendMessageSchema = (maxLength: number) =>
  z
    .object({
    to_email: EmailSchema.optional(),
    conversation_id: ObjectIdSchema.optional(),
    message: messageText(maxLength),
    message_type: z.enum(CLIENT_MESSAGE_TYPES).default("text"),
    reply_to: ObjectIdSchema.nullable().optional().transform((v) => v ?? null),
    client_id: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,64}$/, "1-64 characters of A-Z a-z 0-9 _ . : -")
      .nullable()
      .optional()
      .transform((v) => v ?? null),
  })
    .refine((v) => (v.to_email === undefined) !== (v.conversation_id === undefined), {
      message: "give either to_email or conversation_id",
      path: ["to_email"],
    });

export const editMessageSchema = (maxLength: number) => z.object({ message: messageText(maxLength) });

/** One emoji grapheme, or a `:short_code:` of at most 32 characters. */
export const EmojiSchema = z
  .string()
  .max(32)
  .refine(isEmoji, { message: "must be one emoji or a :short_code: of at most 32 characters" });

const segmenter = new Intl.Segmenter("en", { granularity: "grapheme" });
const EMOJI_PART = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20E3/u;

function isEmoji(s: string): boolean {
  // No leading underscore: `:__proto__:` must never become a property name anywhere.
  if (/^:[a-z0-9+-][a-z0-9_+-]{0,29}:$/.test(s)) return true;
  const graphemes = [...segmenter.segment(s)];
  return graphemes.length === 1 && EMOJI_PART.test(s);
}

export const ROLES = ["owner", "admin", "member"] as const;

export const GroupTitleSchema = z.string().trim().min(1).max(100);

/** `POST /api/conversations`: the member cap is configuration (GROUP_MAX_MEMBERS). */
export const createGroupSchema = (maxMembers: number) =>
  z.object({
    conversation_type: z.literal("group"),
    title: GroupTitleSchema,
    members: z.array(EmailSchema).min(1).max(maxMembers),
  });

export const UpdateGroupSchema = z.object({ title: GroupTitleSchema });
export const addMembersSchema = (maxMembers: number) => z.object({ emails: z.array(EmailSchema).min(1).max(maxMembers) });
export const SetRoleSchema = z.object({ role: z.enum(ROLES) });

export const MessageRefSchema = z.object({ message_id: ObjectIdSchema });
export const editMessageEventSchema = (maxLength: number) => MessageRefSchema.extend({ message: messageText(maxLength) });
export const ReactionEventSchema = MessageRefSchema.extend({ emoji: EmojiSchema });
export const MarkReadSchema = z.object({
  conversation_id: ObjectIdSchema,
  up_to_seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});

export type LoginInput = z.infer<typeof LoginSchema>;
export type SendMessageInput = z.infer<ReturnType<typeof sendMessageSchema>>;

export const ConversationRefSchema = z.object({ conversation_id: ObjectIdSchema });

export const SearchQuerySchema = z.object({
  query: z.string().trim().min(1).max(100),
});

/** `since`: a cursor from an earlier sync (absent: "from now on", an empty page with a cursor). */
export const syncSchema = (maxLimit: number) =>
  z.object({
    since: z.string().min(1).max(256).optional(),
    limit: z.coerce.number().int().min(1).max(maxLimit).default(Math.min(100, maxLimit)),
  });
export type SyncInput = z.infer<ReturnType<typeof syncSchema>>;

/** Turns zod issues into `[{path, message}]` for error details. */
export function issuesOf(err: z.ZodError): { path: string; message: string }[] {
  return err.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
}
