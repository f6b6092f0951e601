/**
 * Group conversations over REST: create, rename, add/remove members, roles,
 * leave, and every member's read pointer ("seen by"). The rules live in
 * GroupsService / ConversationsService, shared with the socket events.
 */
import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { ConversationsService } from "../../domain/conversations.service.ts";
import type { GroupsService } from "../../domain/groups.service.ts";
import { addMembersSchema, createGroupSchema, SetRoleSchema, UpdateGroupSchema } from "../../domain/schemas.ts";
import { conversationView, readStateView } from "../../domain/views.ts";
import type { AuthEnv } from "../auth.middleware.ts";
import { validationHook } from "../errors.ts";
import {
  bearerSecurity,
  ConversationIdParam,
  ConversationSchema,
  EmailParam,
  errorResponses,
  jsonBody,
  memberRefusals,
  notFound,
  okJson,
  rateLimited,
  ReadStateSchema,
} from "../schemas.ts";

const security = bearerSecurity;
const tags = ["groups"];
const MemberParam = ConversationIdParam.extend(EmailParam.shape);
const refusals = memberRefusals;

const create = (max: number) =>
  createRoute({
    method: "post",
    path: "/api/conversations",
    tags,
    summary: "Create a group; the caller is its owner",
    description: `Members are told with \`conversation_created\`. Unknown emails → 404 USER_NOT_FOUND; more than ${max} members (GROUP_MAX_MEMBERS, the owner included) → 422.`,
    security,
    request: jsonBody(createGroupSchema(max).openapi("CreateGroupRequest")),
    responses: { 201: okJson(ConversationSchema, "The new group"), ...notFound, ...errorResponses, ...rateLimited },
  });

const rename = createRoute({
  method: "patch",
  path: "/api/conversations/{conversation_id}",
  tags,
  summary: "Rename a group (owner or admin); members are told with conversation_updated",
  security,
  request: { params: ConversationIdParam, ...jsonBody(UpdateGroupSchema.openapi("UpdateGroupRequest")) },
  responses: { 200: okJson(ConversationSchema, "The group"), ...refusals },
});

const addMembers = (max: number) =>
  createRoute({
    method: "post",
    path: "/api/conversations/{conversation_id}/members",
    tags,
    summary: "Add members (owner or admin); they start with nothing unread",
    description: "New members get conversation_created, the others conversation_updated. Members already present are skipped.",
    security,
    request: { params: ConversationIdParam, ...jsonBody(addMembersSchema(max).openapi("AddMembersRequest")) },
    responses: { 200: okJson(ConversationSchema, "The group"), ...refusals },
  });

const removeMember = createRoute({
  method: "delete",
  path: "/api/conversations/{conversation_id}/members/{email}",
  tags,
  summary: "Remove a member (owner or admin; admins cannot remove the owner). Removing yourself is leaving",
  description: "The removed member gets conversation_removed and from then on receives nothing of the group; the others conversation_updated.",
  security,
  request: { params: MemberParam },
  responses: { 200: okJson(ConversationSchema, "The group"), ...refusals },
});

const setRole = createRoute({
  method: "patch",
  path: "/api/conversations/{conversation_id}/members/{email}",
  tags,
  summary: "Change a member's role (owner only); giving the owner role hands ownership over (the old owner becomes admin)",
  security,
  request: { params: MemberParam, ...jsonBody(SetRoleSchema.openapi("SetRoleRequest")) },
  responses: { 200: okJson(ConversationSchema, "The group"), ...refusals },
});

const leave = createRoute({
  method: "post",
  path: "/api/conversations/{conversation_id}/leave",
  tags,
  summary: "Leave a group (any member)",
  description: "An owner who leaves hands ownership to the longest-standing admin, else member; the last one out leaves an empty, closed group.",
  security,
  request: { params: ConversationIdParam },
  responses: { 200: okJson(ConversationSchema, "The group as it is after you left"), ...refusals },
});

const readState = createRoute({
  method: "get",
  path: "/api/conversations/{conversation_id}/read-state",
  tags: ["conversations"],
  summary: "Every member's read pointer: message seq N is seen by the members whose last_read_seq ≥ N",
  security,
  request: { params: ConversationIdParam },
  responses: { 200: okJson(ReadStateSchema, "Read pointers"), ...notFound, ...errorResponses },
});

export function groupsRoutes(deps: { groups: GroupsService; conversations: ConversationsService; maxMembers: number }) {
  const { groups } = deps;
  return new OpenAPIHono<AuthEnv>({ defaultHook: validationHook })
    .openapi(create(deps.maxMembers), async (c) => {
      const { title, members } = c.req.valid("json");
      return c.json(conversationView(await groups.create(c.var.email, title, members)), 201);
    })
    .openapi(rename, async (c) => {
      const g = await groups.rename(c.var.email, c.req.valid("param").conversation_id, c.req.valid("json").title);
      return c.json(conversationView(g), 200);
    })
    .openapi(addMembers(deps.maxMembers), async (c) => {
      const g = await groups.addMembers(c.var.email, c.req.valid("param").conversation_id, c.req.valid("json").emails);
      return c.json(conversationView(g), 200);
    })
    .openapi(removeMember, async (c) => {
      const { conversation_id, email } = c.req.valid("param");
      return c.json(conversationView(await groups.removeMember(c.var.email, conversation_id, email)), 200);
    })
    .openapi(setRole, async (c) => {
      const { conversation_id, email } = c.req.valid("param");
      return c.json(conversationView(await groups.setRole(c.var.email, conversation_id, email, c.req.valid("json").role)), 200);
    })
    .openapi(leave, async (c) => {
      return c.json(conversationView(await groups.leave(c.var.email, c.req.valid("param").conversation_id)), 200);
    })
    .openapi(readState, async (c) => {
      const states = await deps.conversations.readState(c.req.valid("param").conversation_id, c.var.email);
      return c.json(states.map(readStateView), 200);
    });
}
