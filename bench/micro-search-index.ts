/**
 * What the message search index costs a send (issue #15): the same message
 * writes through the messages repository with and without the term index
 * (`afterInsert` → message_terms), on the embedded FerretDB, alternating the
 * two variants three times. Writes as the group-commit writer issues them:
 * one insertMany per message (idle) and per 20 messages (under load).
 * `nice -n 10 bun bench/micro-search-index.ts`
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ensureIndexes } from "../src/db/indexes.ts";
import { indexMessages } from "../src/db/message-terms.ts";
import { createMessagesRepo } from "../src/db/messages.repo.ts";
import { connectDatabase } from "../src/db/mongo.ts";
import type { NewMessage } from "../src/domain/ports.ts";
import { startEmbeddedDb } from "../src/embedded-db/embedded-db.ts";

const root = resolve(import.meta.dir, "..");
const N = Number(process.env.N ?? 2000);
let url = process.env.MONGODB_URL ?? "";
const own = url ? null : await startEmbeddedDb({ dataDir: mkdtempSync(join(tmpdir(), "bench-msi-")), projectRoot: root });
if (own) url = own.url;
const db = await connectDatabase(url, `bench_msi_${Date.now()}`);
await ensureIndexes(db.collections);
const TOPICS = ["invoice", "meeting", "deadline", "lunch", "release", "review", "holiday", "budget"];
let seq = 0;
const msg = (i: number): NewMessage => ({
  conversation_id: `c${i % 50}`, sender_email: "a@example.com", sender_name: "A",
  message: `Can we talk about the ${TOPICS[i % TOPICS.length]} tomorrow morning? Message ${i}`, message_type: "text",
  timestamp: new Date(), reply_to: null, client_id: null, seq: ++seq,
});

async function run(indexed: boolean, batch: number): Promise<number> {
  const repo = createMessagesRepo(db.collections.messages, indexed ? (ms) => indexMessages(db.collections.messageTerms, ms) : undefined);
  const t = performance.now();
  for (let i = 0; i < N; i += batch) await repo.insertMany(Array.from({ length: batch }, (_, j) => msg(i + j)));
  return N / ((performance.now() - t) / 1000);
}

const results: Record<string, number[]> = {};
for (let round = 0; round < 3; round++) {
  for (const batch of [1, 20]) {
    for (const indexed of [false, true]) {
      const key = `${indexed ? "with index" : "without"} batch ${batch}`;
      (results[key] ??= []).push(await run(indexed, batch));
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [k, xs] of Object.entries(results)) console.log(`${k}: ${xs.map((x) => x.toFixed(0)).join(" / ")} msgs/s (median ${median(xs).toFixed(0)})`);
console.log(`terms per message: ${((await db.collections.messageTerms.countDocuments()) / (N * 3 * 2)).toFixed(1)}`);
await db.db.dropDatabase();
await db.close();
await own?.stop();
process.exit(0);
