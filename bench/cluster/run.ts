/**
 * `bun run bench --only cluster`: cluster mode end to end on this machine, 1 node vs 2 nodes, with redis-server
 * from apt and the embedded database shared by the nodes.
 *  - chat: P pairs exchange `send_message` at a fixed rate; latency send → `new_message` at the recipient.
 *      local      1 node, no REDIS_URL (the single-process baseline)
 *      cluster-1  1 node in cluster mode (every broadcast also goes through Redis: the bus's own cost)
 *      cluster-2  2 nodes, every sender on A and its peer on B (every message crosses Redis)
 *    Server CPU per message (all nodes) gives the bus's overhead: cluster-1 − local.
 *  - fan-out: one user with S sockets, a sender at a fixed rate: deliveries/s with the sockets on 1 node vs 2.
 *  - foreign rooms: pairs all on node A chat; bytes node B receives from the bus for them (target 0).
 * Prints JSON lines and a summary; results are not saved (run it with `nice -n 10` on a shared machine).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startEmbeddedDb } from "../../src/embedded-db/embedded-db.ts";
import { findFreePort, waitForPort } from "../../src/embedded-db/free-port.ts";
import { cpuSeconds } from "../loadgen/cpu.ts";
import { RawEioClient } from "../loadgen/raw-eio.ts";
import { percentile } from "../loadgen/util.ts";
import { startServer, type ServerProc } from "../lib/procs.ts";
import { busCost } from "./bus.ts";

const quick = process.argv.includes("--quick");
const root = resolve(import.meta.dir, "../..");
const P = quick ? { pairs: 10, rate: 200, ms: 2000, fan: 100, fanRate: 50 } : { pairs: 20, rate: 400, ms: 5000, fan: 200, fanRate: 100 };
const SECRET = Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64url");
const log = (o: unknown) => process.stderr.write(`${JSON.stringify(o)}\n`);
const now = () => performance.now();

const db = await startEmbeddedDb({ dataDir: mkdtempSync(join(tmpdir(), "chat-bench-cluster-")), projectRoot: root, progress: () => {} });
const redisPort = await findFreePort();
const redis = Bun.spawn(["redis-server", "--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdout: "ignore" });
process.on("exit", () => redis.kill("SIGKILL"));
await waitForPort("127.0.0.1", redisPort, 10_000);
const METRICS_TOKEN = "bench-cluster-metrics-token";
// The bus alone first (no servers running): CPU per broadcast, publish and receive together.
const bus = await busCost(`redis://127.0.0.1:${redisPort}`, quick ? 20_000 : 100_000);
log({ scenario: "bus alone", ...bus });
let run = 0;

async function nodes(n: number, cluster: boolean): Promise<ServerProc[]> {
  run++;
  const env: Record<string, string> = {
    NODE_ENV: "production",
    AUTH_MODE: "open",
    MONGODB_URL: db.url,
    DATABASE_NAME: `bench_cluster_${run}`,
    JWT_SECRET_KEY: SECRET,
    LOG_LEVEL: "warn",
    METRICS_TOKEN,
    RATE_SEND_PER_10S: "1000000",
    RATE_LOGIN_PER_IP_PER_MIN: "1000000",
    RATE_SIGNUP_PER_IP_PER_HOUR: "1000000",
    MAX_SOCKETS_PER_USER: "1000",
  };
  if (cluster) Object.assign(env, { REDIS_URL: `redis://127.0.0.1:${redisPort}`, REDIS_KEY_PREFIX: `b${run}:` });
  // NODE_ENV=production refuses open mode: development, with the same settings otherwise.
  env.NODE_ENV = "development";
  return Promise.all(Array.from({ length: n }, () => startServer(["bun", "src/main.ts"], env, "/health")));
}

async function login(url: string, email: string): Promise<string> {
  const r = await fetch(`${url}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, name: "b" }) });
  return ((await r.json()) as { access_token: string }).access_token;
}

async function client(url: string, token: string): Promise<RawEioClient> {
  const c = new RawEioClient();
  await c.connect(url, { token });
  return c;
}

const cpu = (servers: ServerProc[]) => servers.reduce((s, p) => s + cpuSeconds(p.pid), 0);
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(" ")[1]) : 0;
}

/** Pairs: sender i on `fromUrl`, its peer on `toUrl`; returns throughput, latency and server CPU per message. */
async function chat(label: string, servers: ServerProc[], fromUrl: string, toUrl: string) {
  const senders: RawEioClient[] = [];
  const peers: RawEioClient[] = [];
  const emails: string[] = [];
  const lat: number[] = [];
  for (let i = 0; i < P.pairs; i++) {
    const a = `s${i}@bench.test`;
    const b = `r${i}@bench.test`;
    emails.push(b);
    senders.push(await client(fromUrl, await login(fromUrl, a)));
    const peer = await client(toUrl, await login(toUrl, b));
    peer.onEvent = (f) => {
      if (!f.startsWith('42["new_message"')) return;
      const at = f.indexOf('"message":"t:');
      if (at !== -1) lat.push(now() - Number.parseFloat(f.slice(at + 13)));
    };
    peers.push(peer);
  }
  await Promise.all(senders.map((s, i) => s.request("send_message", { to_email: emails[i], message: "warm-up" })));
  lat.length = 0;
  const total = Math.round((P.rate * P.ms) / 1000);
  const c0 = cpu(servers);
  const t0 = now();
  let sent = 0;
  let acked = 0;
  const inflight: Promise<void>[] = [];
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - t0) * P.rate) / 1000));
    for (; sent < due; sent++) {
      const i = sent % P.pairs;
      inflight.push(senders[i]!.request("send_message", { to_email: emails[i], message: `t:${now()}` }, 10_000).then((f) => void (f.includes('"ok":true') && acked++), () => {}));
    }
    await Bun.sleep(2);
  }
  await Promise.all(inflight);
  const deadline = now() + 5000;
  while (lat.length < acked && now() < deadline) await Bun.sleep(10);
  const seconds = (now() - t0) / 1000;
  const cpuMs = (cpu(servers) - c0) * 1000;
  lat.sort((a, b) => a - b);
  for (const c of [...senders, ...peers]) c.close();
  const row = {
    scenario: "chat",
    setup: label,
    sent,
    acked,
    delivered: lat.length,
    per_s: Math.round(acked / seconds),
    p50_ms: +percentile(lat, 0.5).toFixed(2),
    p99_ms: +percentile(lat, 0.99).toFixed(2),
    server_cpu_us_per_msg: Math.round((cpuMs * 1000) / Math.max(1, acked)),
  };
  log(row);
  return row;
}

/** One user with P.fan sockets spread over `urls`; a sender on urls[0]: deliveries/s and latency. */
async function fanout(label: string, servers: ServerProc[], urls: string[]) {
  const token = await login(urls[0]!, "fan@bench.test");
  const sender = await client(urls[0]!, await login(urls[0]!, "src@bench.test"));
  const lat: number[] = [];
  const sockets: RawEioClient[] = [];
  for (let i = 0; i < P.fan; i++) {
    const c = await client(urls[i % urls.length]!, token);
    c.onEvent = (f) => {
      if (!f.startsWith('42["new_message"')) return;
      const at = f.indexOf('"message":"t:');
      if (at !== -1) lat.push(now() - Number.parseFloat(f.slice(at + 13)));
    };
    sockets.push(c);
  }
  await sender.request("send_message", { to_email: "fan@bench.test", message: "warm-up" });
  lat.length = 0;
  const total = Math.round((P.fanRate * P.ms) / 1000);
  const c0 = cpu(servers);
  const t0 = now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - t0) * P.fanRate) / 1000));
    for (; sent < due; sent++) void sender.request("send_message", { to_email: "fan@bench.test", message: `t:${now()}` }, 10_000).catch(() => {});
    await Bun.sleep(2);
  }
  const deadline = now() + 10_000;
  while (lat.length < total * P.fan && now() < deadline) await Bun.sleep(10);
  const seconds = (now() - t0) / 1000;
  const cpuMs = (cpu(servers) - c0) * 1000;
  lat.sort((a, b) => a - b);
  for (const c of [...sockets, sender]) c.close();
  const row = {
    scenario: "fan-out",
    setup: label,
    sockets: P.fan,
    messages: total,
    deliveries: lat.length,
    deliveries_per_s: Math.round(lat.length / seconds),
    p50_ms: +percentile(lat, 0.5).toFixed(2),
    p99_ms: +percentile(lat, 0.99).toFixed(2),
    server_cpu_us_per_delivery: +((cpuMs * 1000) / Math.max(1, lat.length)).toFixed(2),
  };
  log(row);
  return row;
}

const rows: Record<string, unknown>[] = [];
async function phase(n: number, cluster: boolean, fn: (s: ServerProc[]) => Promise<void>) {
  const servers = await nodes(n, cluster);
  try {
    await fn(servers);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

await phase(1, false, async ([a]) => void rows.push(await chat("local (1 node, no Redis)", [a!], a!.url, a!.url), await fanout("local (1 node)", [a!], [a!.url])));
await phase(1, true, async ([a]) => void rows.push(await chat("cluster, 1 node", [a!], a!.url, a!.url), await fanout("cluster, 1 node", [a!], [a!.url])));
await phase(2, true, async (s) => {
  const [a, b] = s as [ServerProc, ServerProc];
  rows.push(await chat("cluster, 2 nodes (sender on A, peer on B)", s, a.url, b.url));
  rows.push(await fanout("cluster, 2 nodes (sockets split)", s, [a.url, b.url]));
  // Foreign rooms: both users of every pair on A; what B receives from the bus meanwhile.
  const idle = await client(b.url, await login(b.url, "idle@bench.test"));
  const before = await metric(b.url, "chat_cluster_bus_received_bytes");
  const r = await chat("cluster, 2 nodes, pairs all on A", s, a.url, a.url);
  const after = await metric(b.url, "chat_cluster_bus_received_bytes");
  idle.close();
  rows.push({ scenario: "foreign rooms", messages_on_A: r.acked, bytes_received_by_B: after - before });
  log(rows.at(-1));
});
const local = rows.find((r) => r.setup === "local (1 node, no Redis)");
const one = rows.find((r) => r.setup === "cluster, 1 node");
console.log(
  JSON.stringify({ bus_alone: bus, chat_cpu_us_per_msg_cluster_minus_local: (one?.server_cpu_us_per_msg as number) - (local?.server_cpu_us_per_msg as number), rows }, null, 1),
);
await db.stop();
redis.kill("SIGKILL");
process.exit(0);
