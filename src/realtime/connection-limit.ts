/**
 * MAX_SOCKETS_PER_USER. A socket counts once it joined its user's room; one
 * admitted but not yet connected (the handshake's last microtasks) is counted
 * as pending until the next macrotask, so a burst of parallel connects cannot
 * all pass the check before any of them joins.
 */
export class ConnectionLimit {
  private readonly pending = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly connectedCount: (email: string) => number,
  ) {}

  /** Reserves a place for one more socket of `email`; false when the user is at the limit. */
  admit(email: string): boolean {
    const pending = this.pending.get(email) ?? 0;
    if (this.connectedCount(email) + pending >= this.max) return false;
    this.pending.set(email, pending + 1);
    setImmediate(() => {
      const n = (this.pending.get(email) ?? 1) - 1;
      if (n <= 0) this.pending.delete(email);
      else this.pending.set(email, n);
    });
    return true;
  }
}
