/**
 * Keeps the sends of one origin (a socket) in the order they arrived. A send's
 * first steps (recipient and conversation lookups) may take different times,
 * so without this a burst into a new conversation reached the writer's queue
 * scrambled. Each send takes a turn when it arrives; it may do its lookups at
 * once, but it hands its message to the writer only after every earlier send
 * of the same origin has handed over theirs (or failed). Writing itself stays
 * pipelined: a turn ends when the message is queued, not when it is stored.
 */
export interface Turn {
  /** Resolves once every earlier turn of the same origin has ended. */
  readonly ready: Promise<void>;
  /** Ends this turn; idempotent. */
  end(): void;
}

const FREE: Turn = { ready: Promise.resolve(), end() {} };

export class OrderedIntake {
  private readonly tails = new Map<string, Promise<void>>();

  /** Must be called synchronously when the send arrives: the call order is the order kept. */
  enter(origin: string | undefined): Turn {
    if (origin === undefined) return FREE;
    const ready = this.tails.get(origin) ?? Promise.resolve();
    let end!: () => void;
    const ended = new Promise<void>((r) => (end = r));
    const tail = ready.then(() => ended);
    this.tails.set(origin, tail);
    // The last turn of an origin removes the entry, so idle origins cost nothing.
    void tail.then(() => {
      if (this.tails.get(origin) === tail) this.tails.delete(origin);
    });
    return { ready, end };
  }

  /** Origins with a send in progress (for tests and metrics). */
  get size(): number {
    return this.tails.size;
  }
}
