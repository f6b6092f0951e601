/**
 * Benchmark runner: our server against socket.io on Node (ws engine) and
 * socket.io on Bun (@socket.io/bun-engine), same machine, same database, same
 * load generator, in one run.
 *   bun run bench            full run (several minutes)
 *   bun run bench --quick    under a minute
 * Prints a markdown table, writes bench/results/latest.json, and ends with
 * `broadcast ratio vs socket.io-node: X.XX, vs socket.io-bun: Y.YY`.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { sign } from "hono/jwt";
import { startEmbeddedDb } from "../src/embedded-db/embedded-db.ts";
import { median, rssKiB, startServer, startWorker, type ServerProc } from "./lib/procs.ts";
import { runRest } from "./lib/rest.ts";

const quick = process.argv.includes("--quick");
const root = resolve(import.meta.dir, "..");
const P = quick
  ? { repeats: 1, bcastClients: 500, satMs: 2000, fixedRate: 50, fixedMs: 1000, conns: 2000, pairs: 10, chatRates: [300], chatMs: 3000, restSeconds: 3 }
  : { repeats: 3, bcastClients: 1000, satMs: 5000, fixedRate: 100, fixedMs: 3000, conns: 19_000, pairs: 50, chatRates: [500, 1000, 2000], chatMs: 5000, restSeconds: 10 };

const SECRET = Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64url");
const bun = process.execPath;
const peerFile = join(root, "bench/peers/socketio-peer.mjs");
const POLL = "/socket.io/?EIO=4&transport=polling";

interface Target {
  name: "ours" | "socket.io-node" | "socket.io-bun";
  broadcast: () => Promise<ServerProc>;
  chat: (db: string) => Promise<ServerProc>;
  token: (url: string, email: string) => Promise<string>;
}

const peerToken = async (_url: string, email: string) =>
  sign({ sub: email, exp: Math.floor(Date.now() / 1000) + 3600 }, SECRET, "HS256");

async function oursToken(url: string, email: string): Promise<string> {
  const res = await fetch(`${url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, name: email.split("@")[0] }),
  });
  if (!res.ok) throw new Error(`login failed: ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

let mongoUrl = process.env.MONGODB_URL ?? "";
const ownDb = mongoUrl ? null : await startEmbeddedDb({ dataDir: mkdtempSync(join(tmpdir(), "bench-db-")), projectRoot: root, sync: "normal" });
if (ownDb) mongoUrl = ownDb.url;

const targets: Target[] = [
  {
    name: "ours",
    broadcast: () => startServer([bun, join(root, "bench/peers/ours-broadcast.ts")], {}, POLL),
    chat: (db) =>
      startServer(
        [bun, join(root, "src/main.ts")],
        { NODE_ENV: "production", MONGODB_URL: mongoUrl, DATABASE_NAME: db, JWT_SECRET_KEY: SECRET, LOG_LEVEL: "error", RATE_SEND_PER_10S: "1000000000" },
        "/health",
      ),
    token: oursToken,
  },
  {
    name: "socket.io-node",
    broadcast: () => startServer(["node", peerFile], {}, POLL),
    chat: (db) => startServer(["node", peerFile], { MONGODB_URL: mongoUrl, DATABASE_NAME: db, JWT_SECRET_KEY: SECRET }, POLL),
    token: peerToken,
  },
  {
    name: "socket.io-bun",
    broadcast: () => startServer([bun, peerFile], { PEER_ENGINE: "bun" }, POLL),
    chat: (db) => startServer([bun, peerFile], { PEER_ENGINE: "bun", MONGODB_URL: mongoUrl, DATABASE_NAME: db, JWT_SECRET_KEY: SECRET }, POLL),
    token: peerToken,
  },
];

type Row = Record<string, number>;
const results: Record<string, Record<string, Row>> = { broadcast: {}, connections: {}, chat: {}, rest: {} };
const log = (s: string) => process.stderr.write(`${s}\n`);

async function broadcast(t: Target) {
  const runs: Row[] = [];
  for (let i = 0; i < P.repeats; i++) {
    const server = await t.broadcast();
    try {
      const w = startWorker({ scenario: "broadcast", url: server.url, clients: P.bcastClients, saturationMs: P.satMs, fixedRate: P.fixedRate, fixedMs: P.fixedMs });
      runs.push((await w.next()) as Row);
      await w.done();
    } finally {
      await server.stop();
    }
  }
  results.broadcast![t.name] = {
    delivered_per_s: median(runs.map((r) => r.saturation_msgs_per_s!)),
    p50_ms: median(runs.map((r) => r.p50_ms!)),
    p99_ms: median(runs.map((r) => r.p99_ms!)),
  };
  log(`broadcast ${t.name}: ${JSON.stringify(results.broadcast![t.name])}`);
}

async function connections(t: Target) {
  const server = await t.chat(`bench_conn_${t.name.replace(/\W/g, "_")}`);
  try {
    const token = await t.token(server.url, "idle@bench.example");
    await Bun.sleep(500);
    const before = await rssKiB(server.pid);
    const w = startWorker({ scenario: "connections", url: server.url, count: P.conns, parallel: 100, token });
    const r = (await w.next()) as Row;
    await Bun.sleep(1000);
    const after = await rssKiB(server.pid);
    w.send("close");
    await w.next();
    await w.done();
    results.connections![t.name] = { connections: r.connected!, connect_per_s: r.connect_per_s!, bytes_per_connection: ((after - before) * 1024) / r.connected! };
    log(`connections ${t.name}: ${JSON.stringify(results.connections![t.name])}`);
  } finally {
    await server.stop();
  }
}

async function chat(t: Target) {
  for (const rate of P.chatRates) {
    const server = await t.chat(`bench_chat_${t.name.replace(/\W/g, "_")}_${rate}_${Date.now()}`);
    try {
      const users = [];
      for (let i = 0; i < P.pairs * 2; i++) {
        const email = `u${i}@bench.example`;
        users.push({ email, token: await t.token(server.url, email) });
      }
      const w = startWorker({ scenario: "chat", url: server.url, users, rate, durationMs: P.chatMs });
      const r = (await w.next()) as Row;
      await w.done();
      results.chat![`${t.name}@${rate}`] = { offered_per_s: r.offered_per_s!, persisted_per_s: r.persisted_per_s!, failed: r.failed!, p50_ms: r.p50_ms!, p99_ms: r.p99_ms! };
      log(`chat ${t.name} @${rate}/s: ${JSON.stringify(results.chat![`${t.name}@${rate}`])}`);
    } finally {
      await server.stop();
    }
  }
}

// `--only chat` (or broadcast, connections, rest) runs one scenario, for development; results are not saved then.
const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined;
const wanted = (s: string) => !only || only === s;
const started = Date.now();
if (wanted("broadcast")) for (const t of targets) await broadcast(t);
if (wanted("connections")) for (const t of targets) await connections(t);
if (wanted("chat")) for (const t of targets) await chat(t);
if (wanted("rest")) results.rest!.ours = await runRest(await targets[0]!.chat(`bench_rest_${Date.now()}`), oursToken, P.restSeconds, log);
if (only) {
  await ownDb?.stop();
  process.exit(0);
}
await ownDb?.stop();

const b = results.broadcast!;
const ratio = (k: "socket.io-node" | "socket.io-bun") => b.ours!.delivered_per_s! / b[k]!.delivered_per_s!;
const machine = {
  cpus: cpus().length,
  cpu: cpus()[0]?.model ?? "unknown",
  bun: Bun.version,
  node: (await new Response(Bun.spawn(["node", "--version"]).stdout).text()).trim(),
  database: ownDb ? "FerretDB v1.24.2 (SQLite, synchronous=normal), embedded" : "MONGODB_URL",
};
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(
  join(root, `bench/results/${quick ? "latest-quick" : "latest"}.json`),
  `${JSON.stringify({ mode: quick ? "quick" : "full", date: new Date().toISOString(), seconds: (Date.now() - started) / 1000, machine, params: P, results }, null, 2)}\n`,
);
const { table } = await import("./lib/report.ts");
console.log(table(results, machine, quick));
console.log(`broadcast ratio vs socket.io-node: ${ratio("socket.io-node").toFixed(2)}, vs socket.io-bun: ${ratio("socket.io-bun").toFixed(2)}`);
process.exit(0);
