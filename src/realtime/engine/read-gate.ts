/**
 * Backpressure on what a session reads. While the layer above has paused reading, messages that were already
 * read (a websocket delivers a few after `pause()`, a polling POST carries many) wait here and are delivered in
 * order on resume; `whenIdle()` lets a polling POST hold its answer until its packets have been taken.
 */
import type { RawData } from "./parser.ts";

export class ReadGate {
  paused = false;
  private queue: RawData[] | undefined;
  private delivering = false;
  private waiters: (() => void)[] | undefined;

  constructor(
    private readonly deliver: (data: RawData) => void,
    private readonly open: () => boolean,
  ) {}

  /** A message from the client: delivered now, or queued behind what still waits. */
  push(data: RawData): void {
    if (this.paused || this.delivering || this.queue?.length) {
      (this.queue ??= []).push(data);
      if (!this.paused) this.drain();
    } else {
      this.deliver(data);
    }
  }

  /** True when this call paused it (it was reading). */
  pause(): boolean {
    if (this.paused) return false;
    this.paused = true;
    return true;
  }

  /** Delivers what waited; true when reading goes on (it was paused, and no delivery paused it anew). */
  resume(): boolean {
    if (!this.paused) return false;
    this.paused = false;
    this.drain();
    return !this.paused;
  }

  /** Nothing received waits for the layer above. */
  idle(): boolean {
    return !this.paused && !this.queue?.length;
  }

  whenIdle(): Promise<void> {
    return new Promise((resolve) => (this.waiters ??= []).push(resolve));
  }

  /** The session closed: drop what waits and release every waiter. */
  clear(): void {
    this.queue = undefined;
    this.wake(true);
  }

  private drain(): void {
    // Re-entrant calls (a handler finishing synchronously resumes reading) leave the work to the outer loop.
    if (this.delivering) return;
    this.delivering = true;
    try {
      const q = this.queue;
      while (q && q.length > 0 && !this.paused && this.open()) this.deliver(q.shift()!);
    } finally {
      this.delivering = false;
    }
    this.wake(false);
  }

  private wake(force: boolean): void {
    if (!this.waiters || (!force && !this.idle())) return;
    const waiters = this.waiters;
    this.waiters = undefined;
    for (const w of waiters) w();
  }
}
