/**
 * The database's reachability, known ahead of time: a ping every second while
 * it is up and every 200 ms while it is down (so recovery shows quickly). Health
 * checks and the write path read the cached state instead of waiting on the
 * driver, which would take its server-selection timeout to say "down".
 */
import type { Db } from "mongodb";

export interface DbHealth {
  isUp(): boolean;
  /** Resolves with the state after one ping now (tests, start-up). */
  check(): Promise<boolean>;
  close(): void;
}

export interface DbHealthOptions {
  upIntervalMs?: number;
  downIntervalMs?: number;
  timeoutMs?: number;
  onChange?: (up: boolean) => void;
}

export function monitorDbHealth(db: Db, opts: DbHealthOptions = {}): DbHealth {
  const upInterval = opts.upIntervalMs ?? 1000;
  const downInterval = opts.downIntervalMs ?? 200;
  const timeoutMS = opts.timeoutMs ?? 1000;
  let up = true;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const check = async (): Promise<boolean> => {
    let ok: boolean;
    try {
      await db.command({ ping: 1 }, { timeoutMS });
      ok = true;
    } catch {
      ok = false;
    }
    if (ok !== up && !closed) {
      up = ok;
      opts.onChange?.(up);
    }
    return ok;
  };
  const loop = () => {
    timer = setTimeout(
      () => void check().then(() => !closed && loop()),
      up ? upInterval : downInterval,
    );
    // Never keeps the process alive by itself.
    timer.unref?.();
  };
  loop();

  return {
    isUp: () => up,
    check,
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}
