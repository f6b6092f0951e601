/** Users: login (register on first sight), profile, search. */
import { AppError } from "../errors.ts";
import type { UsersRepo } from "./ports.ts";
import type { LoginInput } from "./schemas.ts";
import type { User } from "./types.ts";

const PROFILE_TTL_MS = 60_000;
const PROFILE_CACHE_MAX = 100_000;

export interface UsersServiceOptions {
  searchLimit: number;
}

/** Who vouches for a login's name and image: the host application (trusted, jwt), or nobody (open). */
export type ProfileAuthority = "host" | "self-asserted";

/** What a verified host token says about its user (jwt mode). */
export interface ClaimedProfile {
  email: string;
  name?: string;
  picture?: string | null;
}

export class UsersService {
  /** Emails known to exist: users are never deleted, so a hit never goes stale. */
  private readonly known = new Set<string>();
  /** Recently read profiles, for connection setup (every socket connect asks); refreshed by logins here. */
  private readonly profiles = new Map<string, { user: User; at: number }>();

  constructor(
    private readonly repo: UsersRepo,
    private readonly opts: UsersServiceOptions,
  ) {}

  /** Profiles last written from host token claims, so an unchanged token costs no write. */
  private readonly synced = new Map<string, string>();

  /**
   * Registers on first login. A self-asserted login (open mode) never changes an existing
   * profile, or anyone could rename anyone; the host's word (trusted mode) updates it.
   */
  async login(input: LoginInput, authority: ProfileAuthority): Promise<User> {
    const user = await this.repo.upsertOnLogin(input, authority === "host");
    this.remember(user);
    return user;
  }

  /** Creates or updates the user from a host token's claims, once per distinct set of claims. */
  async syncFromClaims(p: ClaimedProfile): Promise<void> {
    const key = `${p.name ?? ""}\n${p.picture ?? ""}`;
    if (this.synced.get(p.email) === key) return;
    const name = p.name ?? p.email.split("@")[0]!;
    const input = p.picture === undefined ? { email: p.email, name } : { email: p.email, name, profile_image: p.picture };
    // Without a name claim the stored name stays (the fallback only names a new user).
    const user = await this.repo.upsertOnLogin(input, p.name !== undefined);
    this.remember(user);
    if (this.synced.size >= PROFILE_CACHE_MAX) this.synced.clear();
    this.synced.set(p.email, key);
  }

  /** Changes one's own name and/or image (contacts hear of it through the profile-change listener). */
  async updateProfile(email: string, changes: { name?: string; profile_image?: string | null }): Promise<User> {
    const user = await this.repo.updateProfile(email, changes);
    if (!user) throw new AppError("USER_NOT_FOUND", "user not found");
    this.remember(user);
    await this.profileChanged?.(user);
    return user;
  }

  private profileChanged?: (user: User) => Promise<void>;
  /** Set once by chat-services.ts (it announces `user_updated` to the contacts). */
  onProfileChanged(fn: (user: User) => Promise<void>): void {
    this.profileChanged = fn;
  }

  /** The user, or null (no cache: the admin API compares before and after). */
  find(email: string): Promise<User | null> {
    return this.repo.findByEmail(email);
  }

  /** Whether the email belongs to a registered user. */
  async exists(email: string): Promise<boolean> {
    if (this.known.has(email)) return true;
    const found = (await this.repo.findByEmail(email)) !== null;
    if (found) this.known.add(email);
    return found;
  }

  private remember(user: User): void {
    this.known.add(user.email);
    this.profiles.set(user.email, { user, at: Date.now() });
  }

  /**
   * The user's profile, possibly up to PROFILE_TTL_MS old (a rename through another
   * server process shows after that); throws USER_NOT_FOUND for unknown users.
   */
  async profile(email: string): Promise<User> {
    const hit = this.profiles.get(email);
    if (hit && Date.now() - hit.at < PROFILE_TTL_MS) return hit.user;
    const user = await this.me(email);
    if (this.profiles.size >= PROFILE_CACHE_MAX) this.profiles.clear();
    this.profiles.set(email, { user, at: Date.now() });
    return user;
  }

  async me(email: string): Promise<User> {
    const user = await this.repo.findByEmail(email);
    if (!user) throw new AppError("USER_NOT_FOUND", "user not found");
    return user;
  }

  /** Throws USER_NOT_FOUND unless the email belongs to a registered user. */
  async requireExists(email: string): Promise<void> {
    if (this.known.has(email)) return;
    if (!(await this.repo.findByEmail(email))) throw new AppError("USER_NOT_FOUND", `no user with email ${email}`);
    this.known.add(email);
  }

  /** Every email must name a user (one query for all of them); USER_NOT_FOUND lists the unknown ones. */
  async requireAllExist(emails: string[]): Promise<void> {
    const unknown = emails.filter((e) => !this.known.has(e));
    if (unknown.length === 0) return;
    const found = new Set((await this.repo.findPresence(unknown)).map((u) => u.email));
    const missing = unknown.filter((e) => !found.has(e));
    if (missing.length > 0) throw new AppError("USER_NOT_FOUND", `no user with email ${missing[0]}`, { emails: missing });
    for (const e of unknown) this.known.add(e);
  }

  search(caller: string, query: string, limit?: number): Promise<User[]> {
    return this.repo.search(query, caller, Math.min(limit ?? this.opts.searchLimit, this.opts.searchLimit));
  }
}
