/**
 * Revoked tokens (logout), by `jti`. The store answers `isRevoked` from memory
 * on every request and socket connect; the repository keeps revocations in the
 * database until the token would have expired anyway, so they survive a
 * restart (loaded at start). This is the in-process implementation; a shared
 * one (cluster mode) implements the same interface.
 *
 * A disabled user (admin API) is one more revocation, under the key
 * `user:<email>` (see disabledUserKey) that never expires: every token of the
 * user is refused while it stands, and `unrevoke` (re-enabling) lifts it.
 */

/** The revocation key that stands for "every token of this user" (a disabled user); jtis never contain '@'. */
export const disabledUserKey = (email: string) => `user:${email}`;
/** A disabled user's revocation lasts until re-enabled: this far. */
export const NEVER_EXPIRES = Date.UTC(9999, 0, 1);
export interface RevocationsRepo {
  insert(jti: string, email: string, expiresAt: Date): Promise<void>;
  remove(jti: string): Promise<void>;
  /** Revocations whose token has not expired yet. */
  listActive(now: Date): Promise<{ jti: string; expiresAt: Date }[]>;
}

export interface RevocationStore {
  revoke(jti: string, email: string, expiresAt: number): Promise<void>;
  /** Lifts a revocation (a re-enabled user); no listener is called. */
  unrevoke(jti: string): Promise<void>;
  isRevoked(jti: string): boolean;
  /** Called after each revocation (e.g. to disconnect that token's sockets). */
  onRevoked(fn: (jti: string, email: string) => void): void;
}

/** The in-process store, plus the memory-only side a shared store builds on (another node already wrote the database). */
export interface LocalRevocationStore extends RevocationStore {
  /** Records a revocation made elsewhere (no database write) and calls the listeners, as `revoke` does. */
  remember(jti: string, email: string, expiresAt: number): void;
  /** Forgets a revocation lifted elsewhere (no database write). */
  forget(jti: string): void;
}

/** Expired revocations are dropped from memory at most this often (on the next revocation). */
const SWEEP_EVERY_MS = 60_000;

export async function createLocalRevocationStore(repo: RevocationsRepo): Promise<LocalRevocationStore> {
  const revoked = new Map<string, number>();
  const listeners: ((jti: string, email: string) => void)[] = [];
  for (const r of await repo.listActive(new Date())) revoked.set(r.jti, r.expiresAt.getTime());
  let lastSweep = Date.now();
  const sweep = (now: number) => {
    lastSweep = now;
    for (const [jti, exp] of revoked) if (exp <= now) revoked.delete(jti);
  };
  const remember = (jti: string, email: string, expiresAt: number) => {
    const now = Date.now();
    if (now - lastSweep >= SWEEP_EVERY_MS) sweep(now);
    revoked.set(jti, expiresAt);
    for (const fn of listeners) fn(jti, email);
  };
  return {
    async revoke(jti, email, expiresAt) {
      await repo.insert(jti, email, new Date(expiresAt));
      remember(jti, email, expiresAt);
    },
    async unrevoke(jti) {
      await repo.remove(jti);
      revoked.delete(jti);
    },
    remember,
    forget(jti) {
      revoked.delete(jti);
    },
    isRevoked(jti) {
      const exp = revoked.get(jti);
      if (exp === undefined) return false;
      // An expired token is refused for its expiry anyway; forget it.
      if (exp <= Date.now()) revoked.delete(jti);
      return true;
    },
    onRevoked(fn) {
      listeners.push(fn);
    },
  };
}
