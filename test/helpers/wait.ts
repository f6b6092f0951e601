/** Waiting helpers for tests: every wait fails with a clear message after a timeout, never a bare sleep. */
export interface Emitter {
  once(event: string, fn: (...args: any[]) => void): unknown;
  off(event: string, fn: (...args: any[]) => void): unknown;
}

export function waitFor<T = any>(emitter: Emitter, event: string, timeoutMs = 5000, what = ""): Promise<T> {
  return new Promise((resolve, reject) => {
    const fn = (arg: T) => {
      clearTimeout(timer);
      resolve(arg);
    };
    const timer = setTimeout(() => {
      emitter.off(event, fn);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for "${event}"${what ? ` (${what})` : ""}`));
    }, timeoutMs);
    emitter.once(event, fn);
  });
}

export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/** Collects every payload of an event, to assert later that something arrived exactly once, or never. */
export function collect<T = any>(emitter: { on(event: string, fn: (arg: T) => void): unknown }, event: string): T[] {
  const seen: T[] = [];
  emitter.on(event, (arg: T) => seen.push(arg));
  return seen;
}
