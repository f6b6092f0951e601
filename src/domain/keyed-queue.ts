/**
 * Runs async tasks one at a time per key (e.g. per conversation), in arrival
 * order. Keeps a conversation's sequence numbers, unread counts and message
 * order exact even on servers whose updates are read-modify-write (FerretDB),
 * without serialising unrelated conversations.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const result = prev.then(task, task);
    const tail = result.catch(() => {});
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  get size(): number {
    return this.tails.size;
  }
}
