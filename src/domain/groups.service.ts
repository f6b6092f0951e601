/**
 * Group conversations: create, rename, add and remove members, change roles,
 * leave. A group is a conversation of N members with a title and roles
 * (owner, admin, member). Membership changes are optimistic updates of the
 * conversation document (its version), so two concurrent changes never lose
 * one another; membership documents follow (added before the conversation
 * names the member, removed after), so lists never miss a conversation.
 * Non-members get "not found"; members without the role get FORBIDDEN.
 */
import { AppError } from "../errors.ts";
import type { ConversationsService } from "./conversations.service.ts";
import type { ChatPublisher, ConversationsRepo, GroupChanges } from "./ports.ts";
import type { Conversation, Role } from "./types.ts";
import type { UsersService } from "./users.service.ts";

const RETRIES = 20;

const forbidden = (why: string) => new AppError("FORBIDDEN", why);

export class GroupsService {
  constructor(
    private readonly repo: ConversationsRepo,
    private readonly users: UsersService,
    private readonly conversations: ConversationsService,
    private readonly publisher: () => ChatPublisher,
    private readonly maxMembers: number,
  ) {}

  /** The caller is the owner; the members (deduplicated, the caller added) must all exist. */
  async create(caller: string, title: string, members: string[]): Promise<Conversation> {
    const all = [caller, ...new Set(members.filter((m) => m !== caller))];
    this.checkSize(all.length);
    await this.users.requireAllExist(all.slice(1));
    const conversation = await this.repo.createGroup({
      title,
      participants: all,
      roles: all.map((_, i) => (i === 0 ? "owner" : "member")),
      now: new Date(),
    });
    this.conversations.membershipChanged(conversation.id, all);
    this.publisher().conversationCreated(conversation, all);
    // Group events carry no unread counts (each member's is private); the creator's answer shows theirs.
    return { ...conversation, unread_count: { [caller]: 0 } };
  }

  async rename(caller: string, id: string, title: string): Promise<Conversation> {
    const { conversation } = await this.change(id, caller, (c) => {
      requireRole(c, caller, ["owner", "admin"], "only the owner or an admin can rename the group");
      return { title };
    });
    this.publisher().conversationUpdated(conversation, conversation.participants);
    return conversation;
  }

  /** New members start with nothing unread (their read pointer at the newest message); present ones are skipped. */
  async addMembers(caller: string, id: string, emails: string[]): Promise<Conversation> {
    const wanted = [...new Set(emails)];
    await this.users.requireAllExist(wanted);
    let added: string[] = [];
    const { conversation, before } = await this.change(id, caller, async (c) => {
      requireRole(c, caller, ["owner", "admin"], "only the owner or an admin can add members");
      added = wanted.filter((e) => !c.participants.includes(e));
      if (added.length === 0) return null;
      this.checkSize(c.participants.length + added.length);
      await this.repo.addMemberDocs(id, added, new Date(), c.last_seq);
      return { participants: [...c.participants, ...added], roles: [...rolesOf(c), ...added.map((): Role => "member")] };
    });
    if (added.length === 0) return conversation;
    this.conversations.membershipChanged(id, conversation.participants);
    this.publisher().conversationUpdated(conversation, before.participants);
    this.publisher().conversationCreated(conversation, added);
    return conversation;
  }

  /** Owner or admin; an admin cannot remove the owner. Removing oneself is leaving. */
  async removeMember(caller: string, id: string, email: string): Promise<Conversation> {
    if (email === caller) return this.leave(caller, id);
    const { conversation } = await this.change(id, caller, (c) => {
      requireRole(c, caller, ["owner", "admin"], "only the owner or an admin can remove members");
      const role = c.roles?.[email];
      if (!role) throw new AppError("USER_NOT_FOUND", `${email} is not a member of this group`);
      if (role === "owner") throw forbidden("the owner cannot be removed");
      return without(c, email);
    });
    await this.afterLeaving(conversation, email);
    return conversation;
  }

  /** Owner only. Giving someone the owner role hands ownership over (the old owner becomes an admin). */
  async setRole(caller: string, id: string, email: string, role: Role): Promise<Conversation> {
    const { conversation } = await this.change(id, caller, (c) => {
      requireRole(c, caller, ["owner"], "only the owner can change roles");
      if (!c.roles?.[email]) throw new AppError("USER_NOT_FOUND", `${email} is not a member of this group`);
      if (email === caller) throw new AppError("VALIDATION_FAILED", "hand ownership over by giving another member the owner role");
      const roles = c.participants.map((p): Role => (p === email ? role : p === caller && role === "owner" ? "admin" : c.roles![p]!));
      return { roles };
    });
    this.publisher().conversationUpdated(conversation, conversation.participants);
    return conversation;
  }

  /**
   * Any member. An owner who leaves hands ownership to the longest-standing admin, else member;
   * the last one out leaves an empty, closed group.
   */
  async leave(caller: string, id: string): Promise<Conversation> {
    const { conversation } = await this.change(id, caller, (c) => {
      requireRole(c, caller, ["owner", "admin", "member"], "");
      return without(c, caller);
    });
    await this.afterLeaving(conversation, caller);
    return conversation;
  }

  private async afterLeaving(conversation: Conversation, gone: string): Promise<void> {
    // Caches first: from the moment the group no longer names them, this process treats them as gone.
    this.conversations.membershipChanged(conversation.id, [...conversation.participants, gone]);
    await this.repo.removeMemberDocs(conversation.id, [gone]);
    this.publisher().conversationRemoved(conversation.id, [gone]);
    if (conversation.participants.length > 0) this.publisher().conversationUpdated(conversation, conversation.participants);
  }

  private checkSize(n: number): void {
    if (n > this.maxMembers) throw new AppError("VALIDATION_FAILED", `a group has at most ${this.maxMembers} members`);
  }

  /**
   * Reads the group, lets `decide` compute the change (or null: none), writes it if nobody changed
   * the group meanwhile, else tries again on the new state.
   */
  private async change(
    id: string,
    caller: string,
    decide: (c: Conversation) => GroupChanges | null | Promise<GroupChanges | null>,
  ): Promise<{ conversation: Conversation; before: Conversation }> {
    for (let i = 0; i < RETRIES; i++) {
      const c = await this.conversations.getForParticipant(id, caller);
      if (c.conversation_type !== "group") throw forbidden("a direct conversation has no title, members or roles to change");
      const changes = await decide(c);
      if (!changes) return { conversation: c, before: c };
      const updated = await this.repo.updateGroup(id, c.version, changes);
      if (updated) return { conversation: updated, before: c };
    }
    throw new AppError("INTERNAL", "the group changed too often, try again");
  }
}

function requireRole(c: Conversation, caller: string, allowed: Role[], why: string): void {
  const role = c.roles?.[caller];
  if (!role || !allowed.includes(role)) throw forbidden(why);
}

const rolesOf = (c: Conversation): Role[] => c.participants.map((p) => c.roles?.[p] ?? "member");

/** The group without `email`; a leaving owner's role goes to the longest-standing admin, else member. */
function without(c: Conversation, email: string): GroupChanges {
  const participants = c.participants.filter((p) => p !== email);
  const roles = participants.map((p) => c.roles?.[p] ?? "member");
  if (c.roles?.[email] === "owner" && participants.length > 0) {
    const heir = roles.indexOf("admin") !== -1 ? roles.indexOf("admin") : 0;
    roles[heir] = "owner";
  }
  return participants.length === 0 ? { participants, roles, closed: true } : { participants, roles };
}
