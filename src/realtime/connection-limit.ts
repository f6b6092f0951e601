/**
 * MAX_SOCKETS_PER_USER. A socket counts once it joined its user's room; one
 * admitted but not yet connected (the handshake's last microtasks) counts as
 * pending, so a burst of parallel connects cannot all pass the check before
 * any of them joins. The pending place is released when the socket connects,
 * or at the next macrotask if it never does (the client left meanwhile).
 */
export class ConnectionLimit {
  private readonly pending = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly connectedCount: (email: string) => number,
  ) {}

  /** Reserves a place for one more socket of `email`: null when the user is at the limit, else the release (idempotent). */
  admit(email: string): (() => void) | null {
    const pending = this.pending.get(email) ?? 0;
    if (this.connectedCount(email) + pending >= this.max) return null;
    this.pending.set(email, pending + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const n = (this.pending.get(email) ?? 1) - 1;
      if (n <= 0) this.pending.delete(email);
      else this.pending.set(email, n);
    };
    setImmediate(release);
    return release;
  }
}
