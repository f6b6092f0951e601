/**
 * Room-broadcast micro-benchmark: the same raw websocket clients join one room on
 * each server in turn, and a controller asks for broadcasts to that room with a
 * window of requests in flight. A broadcast completes when every member has it.
 * Servers: ours (Bun, this protocol layer), node (official socket.io + ws on
 * Node, the reference) and bun-engine (official socket.io + @socket.io/bun-engine).
 *
 *   bun bench/broadcast-micro.ts [--clients 1000] [--broadcasts 2000] [--window 16]
 *                                [--payload 100] [--servers ours,node,bun-engine]
 *
 * Reported per server: broadcasts/s and deliveries/s (wall clock, clients included),
 * fan-out latency p50/p99, server CPU µs per broadcast (from /proc, so it does not
 * depend on how fast the clients read), server RSS; then ratios against node.
 */
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { controller, member } from "./micro/clients.ts";

const { values: args } = parseArgs({
  options: {
    clients: { type: "string", default: "1000" },
    broadcasts: { type: "string", default: "2000" },
    window: { type: "string", default: "16" },
    payload: { type: "string", default: "100" },
    servers: { type: "string", default: "ours,node,bun-engine" },
  },
});
const N = Number(args.clients);
const M = Number(args.broadcasts);
const W = Number(args.window);
const dir = import.meta.dir;
const bun = process.execPath;

const COMMANDS: Record<string, string[]> = {
  ours: [bun, `${dir}/micro/ours-server.ts`],
  node: ["node", `${dir}/micro/peer-server.mjs`],
  "bun-engine": [bun, `${dir}/micro/peer-server.mjs`],
};

interface Result {
  server: string;
  broadcastsPerSec: number;
  deliveriesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerBroadcast: number;
  rssMb: number;
}

/** utime+stime of a process in ms (Linux /proc; clock ticks are 100 Hz there). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function startServer(cmd: string[]): Promise<{ proc: Bun.Subprocess<"ignore", "pipe", "inherit">; base: string }> {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "inherit", env: { ...process.env, PAYLOAD_BYTES: args.payload } });
  const reader = proc.stdout.getReader();
  let out = "";
  const deadline = Date.now() + 15_000;
  while (!/ready (\d+)/.test(out)) {
    if (Date.now() > deadline) throw new Error(`${cmd.join(" ")} did not print "ready <port>" within 15 s`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`${cmd.join(" ")} exited before it was ready`);
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { proc, base: `http://127.0.0.1:${/ready (\d+)/.exec(out)![1]}` };
}

/** Runs `count` broadcasts with W in flight; resolves with the fan-out latency of each. */
function run(go: (seq: number) => void, counts: Int32Array, sentAt: Float64Array, from: number, count: number) {
  return new Promise<number[]>((resolve, reject) => {
    const latencies: number[] = [];
    let next = from;
    const end = from + count;
    const stall = setInterval(() => reject(new Error(`stalled at ${latencies.length}/${count} broadcasts`)), 30_000);
    onComplete = (seq) => {
      latencies.push(performance.now() - sentAt[seq]!);
      if (next < end) send();
      if (latencies.length === count) {
        clearInterval(stall);
        resolve(latencies);
      }
    };
    const send = () => {
      sentAt[next] = performance.now();
      counts[next] = 0;
      go(next++);
    };
    for (let i = 0; i < W && next < end; i++) send();
  });
}

let onComplete: (seq: number) => void = () => {};

async function bench(name: string): Promise<Result> {
  const { proc, base } = await startServer(COMMANDS[name]!);
  const warmup = Math.min(200, M);
  const counts = new Int32Array(warmup + M);
  const sentAt = new Float64Array(warmup + M);
  const sockets: WebSocket[] = [];
  try {
    const onBroadcast = (seq: number) => {
      if (++counts[seq]! === N) onComplete(seq);
    };
    for (let i = 0; i < N; i += 100) {
      const batch = Array.from({ length: Math.min(100, N - i) }, () => member(base, "bench", onBroadcast));
      sockets.push(...(await Promise.all(batch)));
    }
    const ctl = await controller(base);
    const go = (seq: number) => ctl.go("bench", seq);
    await run(go, counts, sentAt, 0, warmup);
    const rss = rssMb(proc.pid);
    const cpu0 = cpuMs(proc.pid);
    const t0 = performance.now();
    const lat = await run(go, counts, sentAt, warmup, M);
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = cpuMs(proc.pid) - cpu0;
    ctl.close();
    lat.sort((a, b) => a - b);
    return {
      server: name,
      broadcastsPerSec: Math.round(M / elapsed),
      deliveriesPerSec: Math.round((M * N) / elapsed),
      p50Ms: Number(lat[Math.floor(lat.length * 0.5)]!.toFixed(2)),
      p99Ms: Number(lat[Math.floor(lat.length * 0.99)]!.toFixed(2)),
      cpuUsPerBroadcast: Math.round((cpu * 1000) / M),
      rssMb: Math.round(rss),
    };
  } finally {
    for (const ws of sockets) ws.close();
    proc.kill();
    await proc.exited;
  }
}

console.log(`room broadcast: ${N} clients, ${M} broadcasts (window ${W}), ${args.payload}-byte payload`);
const results: Result[] = [];
for (const name of args.servers.split(",")) {
  if (!COMMANDS[name]) throw new Error(`unknown server ${name} (ours, node, bun-engine)`);
  results.push(await bench(name));
}
console.table(results);
const ref = results.find((r) => r.server === "node");
const ours = results.find((r) => r.server === "ours");
if (ref && ours) {
  console.log(
    `ours vs node: ${(ours.deliveriesPerSec / ref.deliveriesPerSec).toFixed(2)}x deliveries/s, ` +
      `${(ref.cpuUsPerBroadcast / ours.cpuUsPerBroadcast).toFixed(2)}x less server CPU per broadcast, ` +
      `p50 fan-out ${ours.p50Ms} vs ${ref.p50Ms} ms`,
  );
}
process.exit(0);
