/**
 * Fixed-window counter: at most `limit` hits per `windowMs`. One per socket and
 * event class; a few numbers, no timers, so it costs nothing on idle sockets.
 */
export class RateWindow {
  private windowStart = 0;
  private count = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Counts a hit; false when the limit for the current window is used up. */
  take(now = Date.now()): boolean {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.count = 0;
    }
    if (this.count >= this.limit) return false;
    this.count++;
    return true;
  }
}
