/** Small helpers shared by the load generator scenarios. */
export const now = () => performance.now();

/** Prints one JSON line for the runner. */
export const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

/** Opens n clients, `parallel` at a time. */
export async function connectMany<T>(n: number, parallel: number, open: (i: number) => Promise<T>): Promise<T[]> {
  const res: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, n) }, async () => {
      while (next < n) {
        const i = next++;
        res[i] = await open(i);
      }
    }),
  );
  return res;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** Waits until done() or ms elapse (bounded), polling every 5 ms. */
export async function waitUntil(done: () => boolean, ms: number): Promise<boolean> {
  const end = now() + ms;
  while (!done() && now() < end) await Bun.sleep(5);
  return done();
}
