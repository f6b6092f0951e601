/**
 * Ends sockets when their token does: `token_expiring` some time before, then
 * at expiry the caller's `expire`. One timer wheel for all sockets instead of a
 * setTimeout each: sessions sit in buckets of TICK_MS by their next due time,
 * one interval walks the buckets that came due. An idle socket costs one Set
 * entry; refreshing a token moves it to another bucket.
 */
export interface ExpiringSession {
  /** Token expiry, ms since the epoch. */
  expiresAt: number;
  /** Set once `token_expiring` went out for the current token. */
  warned: boolean;
  /** The bucket the session is in (0 when untracked). */
  bucket: number;
}

export interface SessionExpiryHooks<S extends ExpiringSession> {
  warn(session: S): void;
  expire(session: S): void;
}

const TICK_MS = 500;

export class SessionExpiry<S extends ExpiringSession> {
  private readonly buckets = new Map<number, Set<S>>();
  private lastTick = Math.floor(Date.now() / TICK_MS);
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly warnBeforeMs: number,
    private readonly hooks: SessionExpiryHooks<S>,
  ) {
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** Starts (or, after a refresh, restarts) watching a session for its current expiresAt. */
  track(s: S): void {
    this.untrack(s);
    const warnAt = s.expiresAt - this.warnBeforeMs;
    this.place(s, s.warned || warnAt <= Date.now() ? s.expiresAt : warnAt);
  }

  untrack(s: S): void {
    if (s.bucket === 0) return;
    const set = this.buckets.get(s.bucket);
    set?.delete(s);
    if (set?.size === 0) this.buckets.delete(s.bucket);
    s.bucket = 0;
  }

  close(): void {
    clearInterval(this.timer);
    this.buckets.clear();
  }

  get size(): number {
    let n = 0;
    for (const b of this.buckets.values()) n += b.size;
    return n;
  }

  private place(s: S, dueAt: number): void {
    // Rounded up, so a bucket is only walked once every session in it is due.
    const key = Math.max(Math.ceil(dueAt / TICK_MS), this.lastTick + 1);
    let set = this.buckets.get(key);
    if (!set) this.buckets.set(key, (set = new Set()));
    set.add(s);
    s.bucket = key;
  }

  private tick(): void {
    const now = Date.now();
    const current = Math.floor(now / TICK_MS);
    for (let key = this.lastTick + 1; key <= current; key++) {
      const set = this.buckets.get(key);
      if (!set) continue;
      this.buckets.delete(key);
      for (const s of set) {
        s.bucket = 0;
        if (now >= s.expiresAt) {
          this.hooks.expire(s);
        } else if (!s.warned) {
          s.warned = true;
          this.hooks.warn(s);
          this.place(s, s.expiresAt);
        } else {
          this.place(s, s.expiresAt);
        }
      }
    }
    this.lastTick = current;
  }
}
