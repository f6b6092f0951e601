/**
 * CPU accounting from /proc (Linux): how much of a core the server and the
 * load generator used during a measured phase, and how busy the whole machine
 * was (the rest is other work on a shared machine: noise, reported, not hidden).
 */
import { readFileSync } from "node:fs";

const HZ = 100; // USER_HZ: /proc reports CPU time in 1/100 s on Linux

/** utime + stime of a process in seconds, or NaN when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / HZ;
  } catch {
    return Number.NaN;
  }
}

/** Busy and total CPU seconds of the machine, all cores summed. */
function machineSeconds(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: (total - idle) / HZ, total: total / HZ };
}

export interface CpuReport {
  /** Percent of one core. */
  server_cpu_pct: number;
  loadgen_cpu_pct: number;
  /** Percent of one core used by everything else on the machine (other servers, tests, the database). */
  other_cpu_pct: number;
}

/** Starts measuring; the returned function ends the phase and reports it. */
export function startMeter(serverPid: number | undefined): () => CpuReport {
  const t0 = performance.now();
  const s0 = serverPid ? cpuSeconds(serverPid) : Number.NaN;
  const l0 = cpuSeconds(process.pid);
  const m0 = machineSeconds();
  return () => {
    const wall = (performance.now() - t0) / 1000;
    const server = serverPid ? cpuSeconds(serverPid) - s0 : Number.NaN;
    const loadgen = cpuSeconds(process.pid) - l0;
    const m1 = machineSeconds();
    const busy = m1.busy - m0.busy;
    const pct = (x: number) => Math.round((1000 * x) / wall) / 10;
    return { server_cpu_pct: pct(server), loadgen_cpu_pct: pct(loadgen), other_cpu_pct: pct(Math.max(0, busy - (Number.isNaN(server) ? 0 : server) - loadgen)) };
  };
}

/**
 * Waits until the machine is quiet (under `maxBusyPct` of one core, all processes, over 300 ms windows),
 * at most `maxMs`: a database still working off the previous phase's backlog (a saturated peer
 * leaves one) would otherwise slow the next server measured. Returns how long it waited.
 */
export async function waitForQuiet(maxMs: number, maxBusyPct = 20): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const m0 = machineSeconds();
    const w0 = performance.now();
    await Bun.sleep(300);
    const busyPct = (100 * (machineSeconds().busy - m0.busy)) / ((performance.now() - w0) / 1000);
    const waited = performance.now() - t0;
    if (busyPct < maxBusyPct || waited >= maxMs) return Math.round(waited);
  }
}
