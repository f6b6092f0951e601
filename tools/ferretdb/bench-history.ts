/**
 * Measures a chat history page on the embedded FerretDB, without and with the
 * scalar_ index pushdown (tools/ferretdb/PATCHES.md):
 *   find({conversation_id: C}).sort({seq: -1}).limit(50)            (latest page)
 *   find({conversation_id: C, seq: {$lt: S}}).sort({seq: -1}).limit(50) (older page)
 * on a fresh temporary database of N messages (500 per conversation), first with
 * a plain index {conversation_id: 1, seq: 1} (every query scans the table, as
 * before the patch), then with the same keys as `scalar_conversation_seq`.
 *
 *   bun tools/ferretdb/bench-history.ts [N ...]     (default: 10000 200000)
 *
 * Seeding 200,000 messages takes about half a minute; keep N at that or below.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { MongoClient, type Collection } from "mongodb";
import { startEmbeddedDb } from "../../src/embedded-db/embedded-db.ts";

const sizes = process.argv.slice(2).map(Number);
if (sizes.length === 0) sizes.push(10_000, 200_000);

const PER_CONV = 500;
const dataDir = mkdtempSync(join(tmpdir(), "bench-history-"));
const db = await startEmbeddedDb({ dataDir, projectRoot: resolve(import.meta.dir, "../.."), preferFerretDb: true });
const client = new MongoClient(db.url);

interface Msg {
  conversation_id: string;
  seq: number;
  sender: string;
  text: string;
  timestamp: Date;
}

async function seed(col: Collection<Msg>, n: number) {
  const t0 = performance.now();
  const batch: Msg[] = [];
  for (let i = 0; i < n; i++) {
    const conv = Math.floor(i / PER_CONV);
    batch.push({ conversation_id: `conv-${conv}`, seq: (i % PER_CONV) + 1, sender: `u${i % 7}`, text: `message ${i} `.padEnd(80, "x"), timestamp: new Date(1_700_000_000_000 + i) });
    if (batch.length === 2000 || i === n - 1) await col.insertMany(batch.splice(0), { ordered: false });
  }
  return performance.now() - t0;
}

/** Median milliseconds of `runs` calls of fn, after one warm-up call when runs > 1. */
async function median(runs: number, fn: () => Promise<unknown>) {
  if (runs > 1) await fn();
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ts.push(performance.now() - t);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)]!;
}

const rows: string[] = [];
try {
  for (const n of sizes) {
    const col = client.db("bench").collection<Msg>(`messages_${n}`);
    await col.createIndex({ conversation_id: 1, seq: 1 }, { name: "conversation_seq" });
    const seedMs = await seed(col, n);
    const conv = `conv-${Math.floor(n / PER_CONV / 2)}`;
    const latest = () => col.find({ conversation_id: conv }).sort({ seq: -1 }).limit(50).toArray();
    const older = () => col.find({ conversation_id: conv, seq: { $lt: 300 } }).sort({ seq: -1 }).limit(50).toArray();
    const check = async () => {
      const [a, b] = await Promise.all([latest(), older()]);
      if (a.length !== 50 || a[0]!.seq !== PER_CONV || b[0]!.seq !== 299) throw new Error("wrong page");
    };
    await check();
    const runsBefore = n > 50_000 ? 1 : 5; // a table scan: seconds at 200,000
    const before = [await median(runsBefore, latest), await median(runsBefore, older)];
    await col.dropIndex("conversation_seq");
    const tIndex = performance.now();
    await col.createIndex({ conversation_id: 1, seq: 1 }, { name: "scalar_conversation_seq" });
    const indexMs = performance.now() - tIndex;
    await check();
    const after = [await median(50, latest), await median(50, older)];
    // The floor: one round trip that reads one document by _id (indexed since our first patch).
    const someId = (await col.findOne({ conversation_id: conv }))!._id;
    const floor = await median(50, () => col.findOne({ _id: someId }));
    rows.push(
      `| ${n.toLocaleString("en")} | ${before[0]!.toFixed(1)} ms | ${after[0]!.toFixed(2)} ms | ${before[1]!.toFixed(1)} ms | ${after[1]!.toFixed(2)} ms | ${floor.toFixed(2)} ms |` +
        ` (seeded in ${(seedMs / 1000).toFixed(1)} s, scalar_ index built in ${(indexMs / 1000).toFixed(1)} s)`,
    );
    console.log(rows.at(-1));
    await col.drop();
  }
} finally {
  await client.close();
  await db.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
console.log("\n| messages | latest page, plain index | latest page, scalar_ | older page, plain | older page, scalar_ | findOne by _id |");
console.log("|---|---|---|---|---|---|");
for (const r of rows) console.log(r.replace(/ \(seeded.*$/, ""));
