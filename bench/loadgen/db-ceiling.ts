/**
 * What the database allows, measured with the official driver and no server in
 * between: the ceiling for the chat scenario. Three write patterns, each for
 * `ms` with `writers` concurrent loops, on a fresh database that is dropped after:
 *   insert       one insertOne per message
 *   update+insert per message: the conversation's atomic $inc, then insertOne (what a plain server does)
 *   batch        per 20 messages: one $inc update and one insertMany (group commit)
 *   bun bench/loadgen/db-ceiling.ts '{"url":"mongodb://…","db":"…","ms":2000,"writers":8}'
 */
import { MongoClient, ObjectId } from "mongodb";
import { now, out, percentile } from "./util.ts";

const cfg = JSON.parse(process.argv[2] ?? "{}") as { url: string; db: string; ms: number; writers: number };
const client = new MongoClient(cfg.url, { maxPoolSize: cfg.writers + 2 });
const deadline = setTimeout(() => {
  out({ error: "db-ceiling deadline exceeded" });
  process.exit(2);
}, cfg.ms * 5 + 10_000); // a few phases of `ms` each, plus setup: a stall fails fast instead of stretching --quick

const msg = (conv: string, seq: number) => ({
  _id: new ObjectId(),
  conversation_id: conv,
  seq,
  sender_email: "a@bench.example",
  sender_name: "a",
  message: "hello from the database ceiling benchmark",
  message_type: "text",
  timestamp: new Date(),
  edited: false,
  reply_to: null,
});

async function phase(name: string, perOp: number, op: (writer: number, i: number) => Promise<unknown>) {
  const lat: number[] = [];
  const t0 = now();
  await Promise.all(
    Array.from({ length: cfg.writers }, async (_, w) => {
      for (let i = 0; i < 1_000_000 && now() - t0 < cfg.ms; i++) {
        const s = now();
        await op(w, i);
        lat.push(now() - s);
      }
    }),
  );
  const seconds = (now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { [`${name}_msgs_per_s`]: (lat.length * perOp) / seconds, [`${name}_p99_ms`]: percentile(lat, 0.99) };
}

try {
  await client.connect();
  const db = client.db(cfg.db);
  const messages = db.collection("chat_messages");
  const conversations = db.collection("conversations");
  await messages.createIndex({ conversation_id: 1, seq: -1 });
  const convIds = Array.from({ length: cfg.writers }, (_, i) => `conv${i}`);
  await conversations.insertMany(convIds.map((id) => ({ _id: id as unknown as ObjectId, last_seq: 0, unread: [0, 0] })));
  const inc = (w: number, n: number) => conversations.updateOne({ _id: convIds[w] as unknown as ObjectId }, { $inc: { last_seq: n, "unread.1": n }, $set: { last_message_time: new Date() } });
  const r = {
    ...(await phase("insert", 1, (w, i) => messages.insertOne(msg(convIds[w]!, i)))),
    ...(await phase("update_insert", 1, async (w, i) => {
      await inc(w, 1);
      await messages.insertOne(msg(convIds[w]!, i));
    })),
    ...(await phase("batch20", 20, async (w, i) => {
      await inc(w, 20);
      await messages.insertMany(Array.from({ length: 20 }, (_, k) => msg(convIds[w]!, i * 20 + k)));
    })),
    writers: cfg.writers,
  };
  await db.dropDatabase();
  out(r);
} catch (err) {
  out({ error: String((err as Error).message ?? err) });
  process.exitCode = 1;
} finally {
  clearTimeout(deadline);
  await client.close();
}
