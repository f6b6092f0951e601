/** REST throughput with autocannon (run by Node, in its own process): the same two routes on every target. */
import { resolve } from "node:path";
import { cpuSeconds } from "../loadgen/cpu.ts";
import type { ServerProc } from "./procs.ts";
import type { Target } from "./targets.ts";

const autocannon = resolve(import.meta.dir, "../../node_modules/autocannon/autocannon.js");

async function cannon(args: string[], timeoutMs: number, cpus?: string): Promise<{ rps: number; p50: number; p99: number; non2xx: number; errors: number }> {
  const cmd = ["node", autocannon, "-j", ...args];
  const proc = Bun.spawn(cpus ? ["taskset", "-c", cpus, ...cmd] : cmd, { stdout: "pipe", stderr: "ignore" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  try {
    const out = JSON.parse(await new Response(proc.stdout).text()) as {
      requests: { average: number };
      latency: { p50: number; p99: number };
      non2xx: number;
      errors: number;
    };
    return { rps: out.requests.average, p50: out.latency.p50, p99: out.latency.p99, non2xx: out.non2xx, errors: out.errors };
  } finally {
    clearTimeout(timer);
    await proc.exited;
  }
}

/**
 * Seeds a user with 5 conversations, then loads GET /api/conversations and POST /api/messages/send for `seconds` each.
 * With `loadgenCpus`, autocannon runs under `taskset -c loadgenCpus`.
 */
export async function restOnce(t: Target, server: ServerProc, seconds: number, connections: number, loadgenCpus?: string): Promise<Record<string, number>> {
  const email = (s: string) => `rest-${s}@bench.example`;
  const a = await t.token(server.url, email("a"));
  await t.token(server.url, email("b"));
  const headers = { authorization: `Bearer ${a}`, "content-type": "application/json" };
  for (let i = 0; i < 5; i++) {
    await t.token(server.url, email(`c${i}`));
    const res = await fetch(`${server.url}/api/messages/send`, { method: "POST", headers, body: JSON.stringify({ to_email: email(`c${i}`), message: "hello" }) });
    // 201 (ours, the socket.io peers) or 200 (seed-fastapi: FastAPI's default status)
    if (!res.ok) throw new Error(`seeding failed: ${res.status} ${await res.text()}`);
  }
  // Every target must answer the same thing, or the comparison means nothing.
  const seeded = await fetch(`${server.url}/api/conversations`, { headers });
  const seededBody = (await seeded.json()) as unknown[];
  if (!Array.isArray(seededBody) || seededBody.length !== 5) throw new Error(`expected 5 conversations, got ${JSON.stringify(seededBody).slice(0, 200)}`);
  const common = ["-c", String(connections), "-d", String(seconds), "-H", `authorization=Bearer ${a}`];
  const limit = (seconds + 20) * 1000;
  /** Runs autocannon and adds the server's CPU over the run (% of a core, per second of load). */
  const measured = async (args: string[]) => {
    const c0 = cpuSeconds(server.pid);
    const r = await cannon(args, limit, loadgenCpus);
    return { ...r, cpu: Math.round((100 * (cpuSeconds(server.pid) - c0)) / seconds) };
  };
  const list = await measured([...common, `${server.url}/api/conversations`]);
  const send = await measured(
    [...common, "-m", "POST", "-H", "content-type=application/json", "-b", JSON.stringify({ to_email: email("b"), message: "load" }), `${server.url}/api/messages/send`],
  );
  return {
    list_rps: list.rps,
    list_p50_ms: list.p50,
    list_p99_ms: list.p99,
    list_bad: list.non2xx + list.errors,
    list_server_cpu_pct: list.cpu,
    send_rps: send.rps,
    send_p50_ms: send.p50,
    send_p99_ms: send.p99,
    send_bad: send.non2xx + send.errors,
    send_server_cpu_pct: send.cpu,
  };
}
