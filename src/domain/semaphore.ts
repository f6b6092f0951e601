/**
 * Limits how many async tasks run at once. Used for the message write path:
 * a database that serialises writes (SQLite under FerretDB) answers a few
 * writers quickly and many writers slowly (lock contention), so bounding the
 * writers keeps tail latency low at the same throughput.
 */
export class Semaphore {
  private active = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiters.shift()?.();
    }
  }
}
