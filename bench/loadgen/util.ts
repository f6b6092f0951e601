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

export interface PacedResult {
  sent: number;
  acked: number;
  failed: number;
  /** Seconds from the first send to the last one offered, and to the last answer. */
  offeredSeconds: number;
  allSeconds: number;
}

/**
 * Sends at a fixed rate for `durationMs` (request `i` by `send(i)`, which resolves with the ack frame) and waits
 * for every answer: an ack with "ok":true counts as acked, anything else (an error ack, a timeout) as failed.
 */
export async function pacedSends(rate: number, durationMs: number, send: (i: number) => Promise<string>): Promise<PacedResult> {
  let acked = 0;
  let failed = 0;
  let sent = 0;
  const total = Math.ceil((rate * durationMs) / 1000);
  const inflight: Promise<void>[] = [];
  const t0 = now();
  while (now() - t0 < durationMs) {
    const due = Math.min(Math.floor(((now() - t0) * rate) / 1000), total);
    for (; sent < due; sent++) {
      inflight.push(
        send(sent).then(
          (f) => void (f.includes('"ok":true') ? acked++ : failed++),
          () => void failed++,
        ),
      );
    }
    await Bun.sleep(2);
  }
  const offeredSeconds = (now() - t0) / 1000;
  await Promise.all(inflight);
  return { sent, acked, failed, offeredSeconds, allSeconds: (now() - t0) / 1000 };
}
