/** Users: login (register on first sight), profile, search. */
import { AppError } from "../errors.ts";
import type { UsersRepo } from "./ports.ts";
import type { LoginInput } from "./schemas.ts";
import type { User } from "./types.ts";

export interface UsersServiceOptions {
  searchLimit: number;
}

export class UsersService {
  /** Emails known to exist: users are never deleted, so a hit never goes stale. */
  private readonly known = new Set<string>();

  constructor(
    private readonly repo: UsersRepo,
    private readonly opts: UsersServiceOptions,
  ) {}

  async login(input: LoginInput): Promise<User> {
    const user = await this.repo.upsertOnLogin(input);
    this.known.add(user.email);
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
