/** Child processes for the benchmark: servers and load generators, always stopped, never orphaned. */
import type { Subprocess } from "bun";
import { findFreePort } from "../../src/embedded-db/free-port.ts";

const running = new Set<Subprocess>();
const killAll = () => {
  for (const p of running) p.kill("SIGKILL");
};
process.on("exit", killAll);
process.on("SIGINT", () => process.exit(130));
process.on("SIGTERM", () => process.exit(143));

export interface ServerProc {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts a server and waits until GET `readyPath` answers 200 (or fails after timeoutMs). */
export async function startServer(cmd: string[], env: Record<string, string>, readyPath: string, timeoutMs = 30_000): Promise<ServerProc> {
  const port = await findFreePort();
  const proc = Bun.spawn(cmd, {
    env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdout: "ignore",
    stderr: "pipe",
  });
  running.add(proc);
  let stderr = "";
  void (async () => {
    const dec = new TextDecoder();
    for await (const chunk of proc.stderr) stderr = (stderr + dec.decode(chunk)).slice(-4000);
  })();
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(url + readyPath).then((r) => r.ok, () => false);
    if (ok) break;
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`${cmd.join(" ")} did not become ready: ${stderr}`);
    }
    await Bun.sleep(50);
  }
  return {
    url,
    pid: proc.pid,
    async stop() {
      proc.kill("SIGTERM");
      const done = await Promise.race([proc.exited.then(() => true), Bun.sleep(5000).then(() => false)]);
      if (!done) proc.kill("SIGKILL");
      await proc.exited;
      running.delete(proc);
    },
  };
}

/** Resident set size of a process in KiB (Linux). */
export async function rssKiB(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

/** A load generator process (bench/loadgen/<script>): JSON lines out; `send` writes a line to its stdin. */
export function startWorker(config: unknown, timeoutMs = 180_000, script = "worker.ts") {
  const proc = Bun.spawn([process.execPath, new URL(`../loadgen/${script}`, import.meta.url).pathname, JSON.stringify(config)], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  running.add(proc);
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  return {
    async next(): Promise<Record<string, unknown>> {
      for (;;) {
        const nl = buf.indexOf("\n");
        if (nl !== -1) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const parsed = JSON.parse(line) as Record<string, unknown>;
          if (parsed.error) throw new Error(`load generator: ${parsed.error}`);
          return parsed;
        }
        const chunk = await reader.read();
        if (chunk.done) throw new Error("load generator exited without a result");
        buf += decoder.decode(chunk.value);
      }
    },
    send(line: string) {
      proc.stdin.write(`${line}\n`);
      proc.stdin.flush();
    },
    /** Waits for the exit (killing it after 10 s); safe to call twice, and after a failure. */
    async done() {
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(10_000).then(() => false)]);
      if (!exited) proc.kill("SIGKILL");
      await proc.exited;
      clearTimeout(timer);
      running.delete(proc);
    },
  };
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor((s.length - 1) / 2)]!;
};
