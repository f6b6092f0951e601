/**
 * The database's reachability, known ahead of time: a ping every second while
 * it is up and every 200 ms while it is down (so recovery shows quickly). It is
 * declared down after two failed pings in a row, so one slow answer on a busy
 * machine does not refuse writes. Health
 * checks and the write path read the cached state instead of waiting on the
 * driver, which would take its server-selection timeout to say "down".
 *
 * Self-healing: when the database stays unreachable for `stuckAfterMs`, `onStuck`
 * runs (at most once per that interval) — the connection is rebuilt. Under Bun,
 * the driver's monitor can hang forever in a heartbeat that started while the
 * database process was dying (neither succeeded nor failed), so the driver would
 * never see the restarted database; a fresh client does.
 */
import type { Db } from "mongodb";

export interface DbHealth {
  isUp(): boolean;
  /** How many times the connection was rebuilt because the database stayed away. */
  rebuilds(): number;
  /** Pings now and resolves with the state after it (tests, start-up). */
  check(): Promise<boolean>;
  close(): void;
}

export interface DbHealthOptions {
  upIntervalMs?: number;
  downIntervalMs?: number;
  timeoutMs?: number;
  onChange?: (up: boolean) => void;
  stuckAfterMs?: number;
  onStuck?: () => Promise<void>;
}

export function monitorDbHealth(db: Db, opts: DbHealthOptions = {}): DbHealth {
  const upInterval = opts.upIntervalMs ?? 1000;
  const downInterval = opts.downIntervalMs ?? 200;
  const timeoutMS = opts.timeoutMs ?? 1500;
  const failuresToDown = 2;
  let failures = 0;
  let up = true;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stuckAfter = opts.stuckAfterMs ?? 2000;
  let downSince = 0;
  let lastKick = 0;
  let kicks = 0;

  const check = async (): Promise<boolean> => {
    let ok: boolean;
    try {
      await db.command({ ping: 1 }, { timeoutMS });
      ok = true;
    } catch {
      ok = false;
    }
    failures = ok ? 0 : failures + 1;
    const next = ok ? true : failures >= failuresToDown ? false : up;
    if (next !== up && !closed) {
      up = next;
      downSince = up ? 0 : Date.now();
      opts.onChange?.(up);
    }
    const now = Date.now();
    if (!up && !closed && opts.onStuck && now - downSince >= stuckAfter && now - lastKick >= stuckAfter) {
      lastKick = now;
      kicks++;
      await opts.onStuck().catch(() => {});
    }
    return up;
  };
  const loop = () => {
    timer = setTimeout(
      () => void check().then(() => !closed && loop()),
      up && failures === 0 ? upInterval : downInterval,
    );
    // Never keeps the process alive by itself.
    timer.unref?.();
  };
  loop();

  return {
    isUp: () => up,
    rebuilds: () => kicks,
    check,
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}
