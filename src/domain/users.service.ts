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

export class UsersService {
  /** Emails known to exist: users are never deleted, so a hit never goes stale. */
  private readonly known = new Set<string>();
  /** Recently read profiles, for connection setup (every socket connect asks); refreshed by logins here. */
  private readonly profiles = new Map<string, { user: User; at: number }>();

  constructor(
    private readonly repo: UsersRepo,
    private readonly opts: UsersServiceOptions,
  ) {}

  async login(input: LoginInput): Promise<User> {
    const user = await this.repo.upsertOnLogin(input);
    this.known.add(user.email);
    this.profiles.set(user.email, { user, at: Date.now() });
    return user;
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

  search(caller: string, query: string, limit?: number): Promise<User[]> {
    return this.repo.search(query, caller, Math.min(limit ?? this.opts.searchLimit, this.opts.searchLimit));
  }
}
