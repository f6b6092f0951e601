/**
 * The data benchmark: `bun run bench --only data` (about 20 minutes, most of it
 * seeding 1,000,000 messages with their search terms; `--quick`
 * stops at 100,000 messages). For each size it seeds a fresh database with the
 * server's own documents (seed.ts), starts the server on it (measuring the
 * start-up), and measures through the REST API, one request at a time:
 * the newest history page of a 2,000-message conversation, a page deep in it
 * by cursor, the hot user's list of 200 conversations (from the database: one of them changed before each; and
 * cached: nothing changed), a user search, message
 * searches (a one-word query across the hot user's 200 conversations that about
 * 1 % of messages match; a word every message matches; the same in one
 * conversation), and sends (sequential latency, then throughput with 20 in flight).
 * Ends with `history p50 ratio <largest>/<smallest>: X.XX`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { connectDatabase } from "../../src/db/mongo.ts";
import { startEmbeddedDb } from "../../src/embedded-db/embedded-db.ts";
import { median } from "../lib/procs.ts";
import { startServer } from "../lib/procs.ts";
import { HOT_USER, seed, type SeedPlan } from "./seed.ts";

const quick = process.argv.includes("--quick");
const root = resolve(import.meta.dir, "../..");
const log = (s: string) => process.stderr.write(`${s}\n`);
const SIZES: SeedPlan[] = [
  { messages: 10_000, conversations: 1_000, users: 100 },
  { messages: 100_000, conversations: 10_000, users: 1_000 },
  ...(quick ? [] : [{ messages: 1_000_000, conversations: 100_000, users: 10_000 }]),
];
const SAMPLES = quick ? 100 : 300;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

/** Sequential timed requests after a short warm-up: [p50, p99] in ms. `untimed`: runs before each, outside the timing. */
async function latency(n: number, req: (i: number) => Promise<Response>, untimed?: () => Promise<unknown>): Promise<[number, number]> {
  for (let i = 0; i < 20; i++) await (await req(-1 - i)).arrayBuffer();
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    await untimed?.();
    const t = performance.now();
    const res = await req(i);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${res.url}: ${res.status}`);
    xs.push(performance.now() - t);
  }
  return [median(xs), pct(xs, 99)];
}

async function throughput(total: number, inFlight: number, req: (i: number) => Promise<Response>): Promise<number> {
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) {
        const res = await req(next++);
        if (!res.ok) throw new Error(`${res.url}: ${res.status}`);
        await res.arrayBuffer();
      }
    }),
  );
  return total / ((performance.now() - t) / 1000);
}

async function measure(mongoUrl: string, plan: SeedPlan) {
  const dbName = `bench_data_${plan.messages}_${Date.now()}`;
  const db = await connectDatabase(mongoUrl, dbName);
  let seeded;
  try {
    seeded = await seed(db.collections, plan, (s) => log(`  seed ${plan.messages}: ${s}`));
  } finally {
    await db.close();
  }
  log(`  seeded ${plan.messages} messages in ${seeded.seconds.toFixed(1)} s`);
  const t0 = performance.now();
  const server = await startServer(
    [process.execPath, join(root, "src/main.ts")],
    {
      NODE_ENV: "development",
      MONGODB_URL: mongoUrl,
      DATABASE_NAME: dbName,
      LOG_LEVEL: "error",
      // The benchmark measures the database paths, not the limits.
      RATE_SEND_PER_10S: "1000000000",
      RATE_REST_WRITE_PER_MIN: "1000000000",
      RATE_SEARCH_PER_MIN: "1000000000",
      RATE_SIGNUP_PER_IP_PER_HOUR: "1000000000",
      // --no-list-cache: every list from the database, even when nothing changed (the "cached" column too).
      ...(process.argv.includes("--no-list-cache") ? { LIST_CACHE_ITEMS: "0" } : {}),
    },
    "/health",
    60_000,
  );
  const startup_s = (performance.now() - t0) / 1000;
  try {
    const login = await fetch(`${server.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: HOT_USER, name: "Bench User 0" }),
    });
    if (!login.ok) throw new Error(`login: ${login.status} ${await login.text()}`);
    const { access_token } = (await login.json()) as { access_token: string };
    const headers = { authorization: `Bearer ${access_token}`, "content-type": "application/json" };
    const get = (path: string) => fetch(`${server.url}${path}`, { headers });
    const history = `/api/conversations/${seeded.hotConversationId}/messages`;
    const send = (i: number) =>
      fetch(`${server.url}/api/messages/send`, { method: "POST", headers, body: JSON.stringify({ to_email: seeded.hotPeer, message: `bench ${i}` }) });
    const row = {
      messages: plan.messages,
      startup_s,
      history: await latency(SAMPLES, () => get(`${history}?limit=50`)),
      deep: await latency(SAMPLES, (i) => get(`${history}?limit=50&before=${100 + (Math.abs(i) % 50)}`)),
      // From the database: a message in one of the hot user's conversations before each list (untimed) drops
      // the user's cached list, as any change to one of their conversations does.
      list: await latency(SAMPLES, () => get("/api/conversations?limit=200"), async () => (await send(-1)).arrayBuffer()),
      // Nothing changed between two lists: the per-process list cache answers.
      list_cached: await latency(SAMPLES, () => get("/api/conversations?limit=200")),
      search: await latency(SAMPLES, (i) => get(`/api/users/search?query=user${(Math.abs(i) % 90) + 10}`)),
      msg_search: await latency(SAMPLES, (i) => get(`/api/messages/search?q=topic${Math.abs(i) % 100}&limit=20`)),
      msg_search_common: await latency(SAMPLES, () => get("/api/messages/search?q=conversation&limit=20")),
      msg_search_one: await latency(SAMPLES, () => get(`/api/messages/search?q=conversation&limit=20&conversation_id=${seeded.hotConversationId}`)),
      send: await latency(SAMPLES, send),
      send_per_s: await throughput(quick ? 500 : 2000, 20, send),
    };
    // A page may be short while next_cursor is set (README "Message search"): follow it a few pages.
    const found: { message: string }[] = [];
    let cursor: string | null = "";
    for (let p = 0; p < 10 && cursor !== null && found.length === 0; p++) {
      const page = (await (await get(`/api/messages/search?q=topic7&limit=20${cursor ? `&cursor=${cursor}` : ""}`)).json()) as {
        messages: { message: string }[];
        next_cursor: string | null;
      };
      found.push(...page.messages);
      cursor = page.next_cursor;
    }
    if (found.length === 0 || !found.every((m) => /\btopic7\d?$/.test(m.message))) throw new Error("message search for topic7 found nothing or something else");
    const listed = (await (await get("/api/conversations?limit=200")).json()) as unknown[];
    if (listed.length !== 200) throw new Error(`expected the hot user's 200 conversations, got ${listed.length}`);
    log(`  ${JSON.stringify(row)}`);
    return row;
  } finally {
    await server.stop();
  }
}

const f = (x: number, d = 1) => x.toFixed(d);
let mongoUrl = process.env.MONGODB_URL ?? "";
const dataDir = mkdtempSync(join(tmpdir(), "bench-data-"));
const own = mongoUrl ? null : await startEmbeddedDb({ dataDir, projectRoot: root });
if (own) mongoUrl = own.url;
const rows = [];
try {
  for (const plan of SIZES) {
    log(`size ${plan.messages} messages, ${plan.conversations} conversations, ${plan.users} users`);
    rows.push(await measure(mongoUrl, plan));
  }
} finally {
  await own?.stop();
  // Millions of documents: gigabytes of SQLite files; never leave them behind.
  rmSync(dataDir, { recursive: true, force: true });
}
console.log("| messages | start-up s | history page p50/p99 ms | deep page (cursor) p50/p99 | list of 200 p50/p99 | cached | user search p50/p99 | message search, 1 word p50/p99 | every message matches | in one conversation | send p50/p99 ms | sends/s (20 in flight) |");
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  const pair = ([a, b]: [number, number]) => `${f(a)} / ${f(b)}`;
  console.log(`| ${r.messages.toLocaleString("en-US")} | ${f(r.startup_s)} | ${pair(r.history)} | ${pair(r.deep)} | ${pair(r.list)} | ${pair(r.list_cached)} | ${pair(r.search)} | ${pair(r.msg_search)} | ${pair(r.msg_search_common)} | ${pair(r.msg_search_one)} | ${pair(r.send)} | ${f(r.send_per_s, 0)} |`);
}
const first = rows[0]!;
const last = rows[rows.length - 1]!;
const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);
console.log(`history p50 ratio ${label(last.messages)}/${label(first.messages)}: ${(last.history[0] / first.history[0]).toFixed(2)}`);
process.exit(0);
