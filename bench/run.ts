/**
 * Benchmark runner: our server against socket.io on Node (ws engine) and
 * socket.io on Bun (@socket.io/bun-engine), same machine, same database, same
 * load generator, in one run. Repeats are interleaved (ours, node, bun, ours, …)
 * so that load from elsewhere on the machine falls on every server alike.
 *   bun run bench                 full run (about 13 minutes)
 *   bun run bench --quick         under a minute
 *   bun run bench --only chat     one scenario (broadcast, connections, chat, group, rest, db), results not saved
 *   bun run bench --only group    a 1,000-member group, every member online, 20 group messages/s (p99 send → every member)
 *   bun run bench --only soak     10 minutes of chat under transport drops, a server and a database restart (--quick: 60 s, --seconds N)
 *   bun run bench --only cluster  cluster mode: 1 node vs 2 nodes through Redis (bench/cluster/run.ts)
 *   bun run bench --only data     database sizes 10k / 100k / 1M messages: history, list, search, send (bench/data/run.ts)
 *   … --targets ours --repeats 1  (development) fewer servers or repeats, results not saved
 *   bun run bench --only rest --pin   REST with the server and the embedded database on core 0, autocannon on core 1
 *   … --no-list-cache             ours without its conversation-list cache (every list read from the database)
 * The REST scenario also measures seed-fastapi (bench/peers/seed_peer.py, the original Python service as its README
 * describes it); without its venv it is skipped with a message (run `bash scripts/prepare-seed-peer.sh`).
 * Prints a markdown table, writes bench/results/latest.json (latest-quick.json for --quick),
 * and ends with `broadcast ratio vs socket.io-node: X.XX, vs socket.io-bun: Y.YY`.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { startEmbeddedDb } from "../src/embedded-db/embedded-db.ts";
import { waitForQuiet } from "./loadgen/cpu.ts";
import { median, rssKiB, startWorker, type ServerProc } from "./lib/procs.ts";
import { table } from "./lib/report.ts";
import { restOnce } from "./lib/rest.ts";
import { makeTargets, type Target } from "./lib/targets.ts";

const quick = process.argv.includes("--quick");
const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const only = arg("--only");
/** REST only: server and embedded database under `taskset -c 0`, autocannon under `taskset -c 1`. */
const pin = process.argv.includes("--pin");
if (pin && cpus().length < 2) throw new Error("--pin needs 2 CPUs");
const wanted = (s: string) => !only || only === s;
const root = resolve(import.meta.dir, "..");
// The data benchmark (database sizes, REST reads) is a run of its own.
if (only === "data") await import("./data/run.ts");
// The soak (bench/soak: faults under steady chat, checked message by message) is a run of its own.
if (only === "soak") await import("./soak/main.ts");
// Cluster mode (bench/cluster: 1 node vs 2 through Redis, bus overhead, bytes for foreign rooms) is a run of its own.
if (only === "cluster") await import("./cluster/run.ts");
const P = quick
  ? { repeats: 1, bcastClients: 500, startRate: 200, stepMs: 300, maxLadderMs: 4000, holdMs: 700, fixedRate: 50, fixedMs: 700,
      conns: 2000, pairs: 10, chatRates: [300], chatMs: 2000, ackTimeoutMs: 5000,
      groupMembers: 200, groupRate: 20, groupMs: 2000, groupSenders: 5, restSeconds: 1, restConns: 10, dbMs: 500, dbWriters: 8, settleMaxMs: 1000 }
  : { repeats: 3, bcastClients: 1000, startRate: 50, stepMs: 1000, maxLadderMs: 12_000, holdMs: 2000, fixedRate: 100, fixedMs: 3000,
      // 19,500: the per-process file limit here is 20,000 (hard, cannot be raised without CAP_SYS_RESOURCE)
      conns: 19_500, pairs: 50, chatRates: [500, 1000, 2000], chatMs: 5000, ackTimeoutMs: 10_000,
      groupMembers: 1000, groupRate: 20, groupMs: 10_000, groupSenders: 5, restSeconds: 5, restConns: 20, dbMs: 3000, dbWriters: 8, settleMaxMs: 30_000 };

const started = Date.now();
const SECRET = Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64url");
type Row = Record<string, unknown>;
/** runs[scenario][key][repeat]: every measurement, kept in the JSON. */
const runs: Record<string, Record<string, Row[]>> = { broadcast: {}, connections: {}, chat: {}, group: {}, rest: {}, db: {} };
const errors: string[] = [];
const log = (s: string) => process.stderr.write(`${s}\n`);
const slug = (s: string) => s.replace(/\W/g, "_");
const record = (scenario: string, key: string, row: Row) => {
  (runs[scenario]![key] ??= []).push(row);
  const { ladder: _ladder, ...short } = row;
  log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${scenario} ${key}: ${JSON.stringify(short, (_k, v) => (typeof v === "number" ? Math.round(v * 10) / 10 : v))}`);
};

/** Runs one measurement; a failure is logged and recorded, and the run goes on. */
async function attempt(label: string, fn: () => Promise<void>) {
  try {
    await fn();
  } catch (err) {
    const msg = `${label}: ${(err as Error).message ?? err}`;
    errors.push(msg);
    log(`FAILED ${msg}`);
  }
}

/** Runs one load generator config against a fresh server, stopping both whatever happens. */
async function withServer(start: () => Promise<ServerProc>, fn: (s: ServerProc) => Promise<void>) {
  const server = await start();
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

async function broadcastOnce(t: Target) {
  await withServer(t.broadcast, async (server) => {
    const w = startWorker({ scenario: "broadcast", url: server.url, serverPid: server.pid, clients: P.bcastClients, startRate: P.startRate,
      stepMs: P.stepMs, maxLadderMs: P.maxLadderMs, holdMs: P.holdMs, fixedRate: P.fixedRate, fixedMs: P.fixedMs });
    try {
      record("broadcast", t.name, await w.next());
    } finally {
      await w.done();
    }
  });
}

/** `conversations`: the idle user first takes part in that many conversations (the variant of issue #11: ≤ 8 KB each). */
async function connectionsOnce(t: Target, conversations = 0) {
  await withServer(() => t.chat(`bench_conn_${slug(t.name)}_${Date.now()}`), async (server) => {
    const token = await t.token(server.url, "idle@bench.example");
    for (let i = 0; i < conversations; i++) {
      const peer = `contact${i}@bench.example`;
      await t.token(server.url, peer);
      const sent = await fetch(`${server.url}/api/messages/send`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ to_email: peer, message: "hi" }),
      });
      if (sent.status !== 201) throw new Error(`send: ${sent.status}`);
    }
    await Bun.sleep(500);
    const before = await rssKiB(server.pid);
    const w = startWorker({ scenario: "connections", url: server.url, serverPid: server.pid, count: P.conns, parallel: 100, token });
    try {
      const r = await w.next();
      await Bun.sleep(1000);
      const after = await rssKiB(server.pid);
      const n = r.connected as number;
      record("connections", conversations ? `${t.name}@${conversations}conversations` : t.name, { ...r, rss_before_kib: before, rss_after_kib: after, bytes_per_connection: ((after - before) * 1024) / n });
      w.send("close");
      await w.next();
    } finally {
      await w.done();
    }
  });
}

async function chatOnce(t: Target, rate: number) {
  await withServer(() => t.chat(`bench_chat_${slug(t.name)}_${rate}_${Date.now()}`), async (server) => {
    const users = [];
    for (let i = 0; i < P.pairs * 2; i++) users.push({ email: `u${i}@bench.example`, token: await t.token(server.url, `u${i}@bench.example`) });
    const settle_ms = await waitForQuiet(P.settleMaxMs);
    const w = startWorker({ scenario: "chat", url: server.url, serverPid: server.pid, users, rate, durationMs: P.chatMs, ackTimeoutMs: P.ackTimeoutMs });
    try {
      record("chat", `${t.name}@${rate}`, { ...(await w.next()), settle_ms });
    } finally {
      await w.done();
    }
  });
}

/** One group of P.groupMembers members (created over REST by the first), every member online with one socket. */
async function groupOnce(t: Target) {
  await withServer(() => t.chat(`bench_group_${slug(t.name)}_${Date.now()}`), async (server) => {
    const users = [];
    for (let i = 0; i < P.groupMembers; i++) users.push({ email: `g${i}@bench.example`, token: await t.token(server.url, `g${i}@bench.example`) });
    const created = await fetch(`${server.url}/api/conversations`, {
      method: "POST",
      headers: { authorization: `Bearer ${users[0]!.token}`, "content-type": "application/json" },
      body: JSON.stringify({ conversation_type: "group", title: "bench", members: users.slice(1).map((u) => u.email) }),
    });
    if (created.status !== 201) throw new Error(`group create: ${created.status} ${await created.text()}`);
    const conversationId = ((await created.json()) as { id: string }).id;
    // 1,000 tokens are more than one argument may hold: the worker reads them from a file.
    const usersFile = join(mkdtempSync(join(tmpdir(), "bench-group-")), "users.json");
    writeFileSync(usersFile, JSON.stringify(users));
    const settle_ms = await waitForQuiet(P.settleMaxMs);
    const w = startWorker({ scenario: "group", url: server.url, serverPid: server.pid, usersFile, conversationId, senders: P.groupSenders,
      rate: P.groupRate, durationMs: P.groupMs, ackTimeoutMs: P.ackTimeoutMs });
    try {
      record("group", `${t.name}@${P.groupRate}`, { ...(await w.next()), settle_ms });
    } finally {
      await w.done();
    }
  });
}

async function restRun(t: Target) {
  await withServer(() => t.chat(`bench_rest_${slug(t.name)}_${Date.now()}`, pin ? "0" : undefined), async (server) => {
    const settle_ms = await waitForQuiet(P.settleMaxMs);
    record("rest", t.name, { ...(await restOnce(t, server, P.restSeconds, P.restConns, pin ? "1" : undefined)), settle_ms });
  });
}

/** Sets the CPU affinity of every thread of a running process (`taskset -a -p`). */
async function affinity(pid: number, cpus: string) {
  const p = Bun.spawn(["taskset", "-a", "-p", "-c", cpus, String(pid)], { stdout: "ignore", stderr: "pipe" });
  if ((await p.exited) !== 0) throw new Error(`taskset -p ${cpus} ${pid}: ${await new Response(p.stderr).text()}`);
}

async function dbCeiling(mongoUrl: string) {
  const w = startWorker({ url: mongoUrl, db: `bench_ceiling_${Date.now()}`, ms: P.dbMs, writers: P.dbWriters }, P.dbMs * 3 + 90_000, "db-ceiling.ts");
  try {
    record("db", "driver", await w.next());
  } finally {
    await w.done();
  }
}

const load0 = loadavg();
let mongoUrl = process.env.MONGODB_URL ?? "";
const ownDb = mongoUrl ? null : await startEmbeddedDb({ dataDir: mkdtempSync(join(tmpdir(), "bench-db-")), projectRoot: root, sync: "normal" });
if (ownDb) mongoUrl = ownDb.url;
const pick = arg("--targets")?.split(",");
const targets = makeTargets(root, mongoUrl, SECRET).filter((t) => !pick || pick.includes(t.name));
/** Targets that cannot run here (seed-fastapi without its venv): skipped with a message, not failed. */
const skipped: Record<string, string> = {};
for (const t of targets) {
  const why = t.scenarios?.some(wanted) !== false ? t.unavailable?.() : null;
  if (why) {
    skipped[t.name] = why;
    log(`SKIPPED ${t.name}: ${why}`);
  }
}
if (arg("--repeats")) P.repeats = Number(arg("--repeats"));
const partial = Boolean(only || pick || arg("--repeats"));
try {
  const rounds = async (label: string, fn: (t: Target) => Promise<void>) => {
    const scenario = label.split("@")[0]!;
    const ts = targets.filter((t) => !skipped[t.name] && (!t.scenarios || t.scenarios.includes(scenario)));
    for (let i = 0; i < P.repeats; i++) for (const t of ts) await attempt(`${label} ${t.name} #${i + 1}`, () => fn(t));
  };
  if (wanted("broadcast")) await rounds("broadcast", broadcastOnce);
  if (wanted("connections")) {
    await rounds("connections", (t) => connectionsOnce(t));
    await rounds("connections@50", (t) => connectionsOnce(t, 50));
  }
  if (wanted("chat")) for (const rate of P.chatRates) await rounds(`chat@${rate}`, (t) => chatOnce(t, rate));
  if (wanted("group")) await rounds("group", groupOnce);
  if (wanted("rest")) {
    const cpuList = `0-${cpus().length - 1}`;
    if (pin && ownDb) await affinity(ownDb.pid, "0");
    if (pin && !ownDb) log("--pin: the database at MONGODB_URL is not ours to pin; only the servers and autocannon are pinned");
    try {
      await rounds("rest", restRun);
    } finally {
      if (pin && ownDb) await affinity(ownDb.pid, cpuList);
    }
  }
  if (wanted("db")) for (let i = 0; i < P.repeats; i++) await attempt(`db ceiling #${i + 1}`, () => dbCeiling(mongoUrl));
} finally {
  await ownDb?.stop();
}

/** Median of every numeric field over the repeats. */
const medians = (rows: Row[]) => {
  const m: Record<string, number> = {};
  for (const k of Object.keys(rows[0] ?? {})) {
    const xs = rows.map((r) => r[k]).filter((v): v is number => typeof v === "number" && Number.isFinite(v));
    if (xs.length) m[k] = median(xs);
  }
  return m;
};
const results = Object.fromEntries(Object.entries(runs).map(([s, byKey]) => [s, Object.fromEntries(Object.entries(byKey).map(([k, rows]) => [k, medians(rows)]))]));
/** Median over repeats of (a's metric ÷ b's metric) in the same round. */
const ratio = (scenario: string, metric: string, a: string, b: string) => {
  const ra = runs[scenario]?.[a] ?? [];
  const rb = runs[scenario]?.[b] ?? [];
  const xs = ra.map((r, i) => (r[metric] as number) / (rb[i]?.[metric] as number)).filter((x) => Number.isFinite(x));
  return xs.length ? median(xs) : Number.NaN;
};
const machine = {
  cpus: cpus().length,
  cpu: cpus()[0]?.model ?? "unknown",
  memory_gib: Math.round(totalmem() / 2 ** 30),
  bun: Bun.version,
  node: (await new Response(Bun.spawn(["node", "--version"]).stdout).text()).trim(),
  database: ownDb ? "FerretDB v1.24.2 (SQLite, synchronous=normal), embedded" : "MONGODB_URL",
  loadavg_at_start: load0.map((x) => Math.round(x * 100) / 100),
  loadavg_at_end: loadavg().map((x) => Math.round(x * 100) / 100),
  ...(pin ? { rest_pinning: ownDb ? "server and database on CPU 0, autocannon on CPU 1" : "server on CPU 0, autocannon on CPU 1 (database at MONGODB_URL not pinned)" } : {}),
};
const ratios = { ratio, chatRates: P.chatRates };
const bNode = ratio("broadcast", "saturation_msgs_per_s", "ours", "socket.io-node");
const bBun = ratio("broadcast", "saturation_msgs_per_s", "ours", "socket.io-bun");
const seedList = ratio("rest", "list_rps", "ours", "seed-fastapi");
const seedSend = ratio("rest", "send_rps", "ours", "seed-fastapi");
if (!partial) {
  mkdirSync(join(root, "bench/results"), { recursive: true });
  const file = join(root, `bench/results/${quick ? "latest-quick" : "latest"}.json`);
  const doc = { mode: quick ? "quick" : "full", date: new Date().toISOString(), seconds: (Date.now() - started) / 1000, command: `bun run bench${quick ? " --quick" : ""}`,
    client: "bench/loadgen/raw-eio.ts: raw TCP + hand-written RFC 6455 frames, Engine.IO v4 / Socket.IO v5 text packets; not socket.io-client",
    machine, params: P, ratios: { broadcast_vs_node: bNode, broadcast_vs_bun: bBun, rest_list_vs_seed: seedList, rest_send_vs_seed: seedSend },
    results, runs, errors, skipped };
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
}
console.log(table(results, ratios, machine, quick));
if (errors.length) console.log(`\n${errors.length} measurement(s) failed: ${errors.join("; ")}`);
for (const [name, why] of Object.entries(skipped)) console.log(`\nskipped ${name}: ${why}`);
if (runs.rest?.["seed-fastapi"]) console.log(`REST ratio vs seed-fastapi: GET /api/conversations ${seedList.toFixed(2)}, POST /api/messages/send ${seedSend.toFixed(2)}`);
for (const [key, r] of Object.entries(results.connections ?? {})) {
  if (key.includes("@")) console.log(`idle connections, ${key}: ${r.bytes_per_connection?.toFixed(0)} B per connection`);
}
for (const [key, r] of Object.entries(results.group ?? {})) {
  console.log(`group fan-out ${key} (${r.members} members): p50 ${r.p50_ms?.toFixed(1)} ms, p99 ${r.p99_ms?.toFixed(1)} ms, deliveries ${r.deliveries}/${r.deliveries_expected}`);
}
const gRate = `@${P.groupRate}`;
if (runs.group?.[`ours${gRate}`]) {
  const gNode = ratio("group", "p99_ms", `socket.io-node${gRate}`, `ours${gRate}`);
  const gBun = ratio("group", "p99_ms", `socket.io-bun${gRate}`, `ours${gRate}`);
  console.log(`group fan-out p99 ratio (theirs ÷ ours, higher is better for ours) vs socket.io-node: ${gNode.toFixed(2)}, vs socket.io-bun: ${gBun.toFixed(2)}`);
}
console.log(`broadcast ratio vs socket.io-node: ${bNode.toFixed(2)}, vs socket.io-bun: ${bBun.toFixed(2)}`);
process.exit(0);
