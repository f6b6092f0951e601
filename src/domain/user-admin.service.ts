/**
 * The host application's user sync (admin API): create or update users from the
 * host's own tables, disable and re-enable them. Disabling keeps the user and
 * their messages; it refuses their tokens and ends their sockets through the
 * UserAccess port (revocations, implemented outside the domain). Profile
 * changes reach the user's contacts as `user_updated`.
 */
import { AppError } from "../errors.ts";
import type { ConversationsService } from "./conversations.service.ts";
import type { ChatPublisher } from "./ports.ts";
import type { AdminUserInput } from "./schemas.ts";
import type { User } from "./types.ts";
import type { UsersService } from "./users.service.ts";

/** The disabled flag stored on the user (the record readers see). */
export interface UserFlagsRepo {
  setDisabled(email: string, disabled: boolean): Promise<boolean>;
  disabledAmong(emails: string[]): Promise<Set<string>>;
}

/** Whether a user's tokens are honoured; the revocation store implements it (local, or shared in cluster mode). */
export interface UserAccess {
  disable(email: string): Promise<void>;
  enable(email: string): Promise<void>;
}

export interface AdminUser extends User {
  disabled: boolean;
}

export interface UserAdminDeps {
  users: UsersService;
  flags: UserFlagsRepo;
  access: UserAccess;
  conversations: ConversationsService;
  publisher: () => ChatPublisher;
}

const sameProfile = (a: User | null, b: User) => a !== null && a.name === b.name && a.profile_image === b.profile_image;

export class UserAdminService {
  constructor(private readonly d: UserAdminDeps) {}

  /** Creates or updates the user; `disabled` (when given) disables or re-enables them. */
  async put(input: AdminUserInput): Promise<{ user: AdminUser; created: boolean }> {
    const { user, created } = await this.write(input);
    const isDisabled = input.disabled ?? (await this.d.flags.disabledAmong([user.email])).has(user.email);
    return { user: { ...user, disabled: isDisabled }, created };
  }

  /**
   * Each user as by put, in order, one at a time (an initial sync, not a hot path: it must not starve chat
   * writes); the disabled flags of the users whose `disabled` is not given are read in one query for the batch.
   */
  async putMany(inputs: AdminUserInput[]): Promise<{ user: AdminUser; created: boolean }[]> {
    const unstated = [...new Set(inputs.filter((u) => u.disabled === undefined).map((u) => u.email))];
    // A copy kept up to date as the batch goes: an email given twice sees what its earlier entry set.
    const disabled = new Set(unstated.length > 0 ? await this.d.flags.disabledAmong(unstated) : []);
    const results: { user: AdminUser; created: boolean }[] = [];
    for (const input of inputs) {
      const { user, created } = await this.write(input);
      if (input.disabled === true) disabled.add(user.email);
      else if (input.disabled === false) disabled.delete(user.email);
      results.push({ user: { ...user, disabled: disabled.has(user.email) }, created });
    }
    return results;
  }

  /** Disables the user (tokens refused, sockets disconnected, messages kept). */
  async disable(email: string): Promise<AdminUser> {
    const user = await this.d.users.find(email);
    if (!user) throw new AppError("USER_NOT_FOUND", "user not found");
    await this.setDisabled(email, true);
    return { ...user, disabled: true };
  }

  /** Tells the user's contacts about their current public profile. */
  async announce(user: User): Promise<void> {
    const audience = await this.d.conversations.contactsOf(user.email);
    this.d.publisher().userUpdated(user, audience);
  }

  /** The profile written (the host's word: overwritten, as a trusted-mode login does), `disabled` applied when given, contacts told of a change. */
  private async write(input: AdminUserInput): Promise<{ user: User; created: boolean }> {
    const before = await this.d.users.find(input.email);
    const { disabled, ...profile } = input;
    const user = await this.d.users.login(profile, "host");
    if (disabled !== undefined) await this.setDisabled(user.email, disabled);
    if (before && !sameProfile(before, user)) await this.announce(user);
    return { user, created: before === null };
  }

  private async setDisabled(email: string, disabled: boolean): Promise<void> {
    // The flag first, then the revocation: a crash in between leaves a flag the next call repairs, never a refused user shown as enabled.
    await this.d.flags.setDisabled(email, disabled);
    if (disabled) await this.d.access.disable(email);
    else await this.d.access.enable(email);
  }
}
