/** REST throughput of our server with autocannon (run by Node, in its own process). */
import { resolve } from "node:path";
import type { ServerProc } from "./procs.ts";

const autocannon = resolve(import.meta.dir, "../../node_modules/autocannon/autocannon.js");

async function cannon(args: string[]): Promise<{ rps: number; p99: number; non2xx: number }> {
  const proc = Bun.spawn(["node", autocannon, "-j", ...args], { stdout: "pipe", stderr: "ignore" });
  const out = JSON.parse(await new Response(proc.stdout).text()) as { requests: { average: number }; latency: { p99: number }; non2xx: number };
  await proc.exited;
  return { rps: out.requests.average, p99: out.latency.p99, non2xx: out.non2xx };
}

export async function runRest(
  server: ServerProc,
  token: (url: string, email: string) => Promise<string>,
  seconds: number,
  log: (s: string) => void,
): Promise<Record<string, number>> {
  try {
    const a = await token(server.url, "rest-a@bench.example");
    await token(server.url, "rest-b@bench.example");
    for (let i = 0; i < 5; i++) await token(server.url, `rest-c${i}@bench.example`);
    const auth = ["-H", `authorization=Bearer ${a}`];
    for (let i = 0; i < 5; i++) {
      await fetch(`${server.url}/api/messages/send`, {
        method: "POST",
        headers: { authorization: `Bearer ${a}`, "content-type": "application/json" },
        body: JSON.stringify({ to_email: `rest-c${i}@bench.example`, message: "hello" }),
      });
    }
    const list = await cannon(["-c", "20", "-d", String(seconds), ...auth, `${server.url}/api/conversations`]);
    const send = await cannon([
      "-c", "20", "-d", String(seconds), ...auth, "-m", "POST", "-H", "content-type=application/json",
      "-b", JSON.stringify({ to_email: "rest-b@bench.example", message: "load" }), `${server.url}/api/messages/send`,
    ]);
    const r = { list_rps: list.rps, list_p99_ms: list.p99, list_non2xx: list.non2xx, send_rps: send.rps, send_p99_ms: send.p99, send_non2xx: send.non2xx };
    log(`rest ours: ${JSON.stringify(r)}`);
    return r;
  } finally {
    await server.stop();
  }
}
