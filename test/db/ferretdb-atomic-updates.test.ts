/**
 * Updates are atomic between clients of one database server (on the embedded
 * FerretDB: our patch tools/ferretdb/patches/atomic-updates.diff). Without it,
 * FerretDB reads a document, modifies it in Go and writes it back with nothing
 * in between held, so concurrent $inc lose increments and a $set of one field
 * overwrites a concurrent $inc of another.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { MongoClient } from "mongodb";
import { testMongoUrl, uniqueDbName } from "../helpers/server.ts";

interface Counter {
  _id: string;
  n: number;
  m: number;
  other: Record<string, number>;
}

const dbName = uniqueDbName("ferretatomic");
let a: MongoClient;
let b: MongoClient;

beforeAll(async () => {
  a = new MongoClient(testMongoUrl(), { maxPoolSize: 50 });
  b = new MongoClient(testMongoUrl(), { maxPoolSize: 50 });
  await Promise.all([a.connect(), b.connect()]);
});

afterAll(async () => {
  await a.db(dbName).dropDatabase().catch(() => {});
  await Promise.all([a.close(), b.close()]);
}, 30_000);

test("concurrent findOneAndUpdate $inc, updateOne $inc and $set of a sibling field from two clients lose nothing", async () => {
  const PER_CLIENT = 150;
  await a.db(dbName).collection<Counter>("counters").insertOne({ _id: "c", n: 0, m: 0, other: {} });

  const work = (client: MongoClient, label: string) => {
    const col = client.db(dbName).collection<Counter>("counters");
    const ops: Promise<number | null>[] = [];
    for (let i = 0; i < PER_CLIENT; i++) {
      ops.push(col.findOneAndUpdate({ _id: "c" }, { $inc: { n: 1 } }, { returnDocument: "after" }).then((d) => d?.n ?? null));
      ops.push(col.updateOne({ _id: "c" }, { $inc: { m: 1 } }).then((r) => r.modifiedCount));
      ops.push(col.updateOne({ _id: "c" }, { $set: { [`other.${label}${i}`]: i } }).then((r) => r.modifiedCount));
    }
    return Promise.all(ops);
  };
  const [ra, rb] = await Promise.all([work(a, "a"), work(b, "b")]);

  const doc = await a.db(dbName).collection<Counter>("counters").findOne({ _id: "c" });
  expect(doc?.n).toBe(2 * PER_CLIENT);
  expect(doc?.m).toBe(2 * PER_CLIENT);
  expect(Object.keys(doc?.other ?? {}).length).toBe(2 * PER_CLIENT);
  // Each findOneAndUpdate saw its own increment: the values it returned are exactly 1..2*PER_CLIENT.
  const seen = [...ra, ...rb].filter((_, i) => i % 3 === 0).sort((x, y) => (x ?? 0) - (y ?? 0));
  expect(seen).toEqual(Array.from({ length: 2 * PER_CLIENT }, (_, i) => i + 1));
}, 60_000);

test("concurrent updateMany $inc over several documents and upserts of one new document from two clients", async () => {
  const col = a.db(dbName).collection<{ _id: string; k: number; group: string }>("many");
  await col.insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: `d${i}`, k: 0, group: "g" })));
  const ops: Promise<unknown>[] = [];
  for (let i = 0; i < 60; i++) {
    for (const client of [a, b]) {
      const c = client.db(dbName).collection<{ _id: string; k: number; group: string }>("many");
      ops.push(c.updateMany({ group: "g" }, { $inc: { k: 1 } }));
      ops.push(c.updateOne({ _id: "up" }, { $inc: { k: 1 }, $setOnInsert: { group: "u" } }, { upsert: true }));
    }
  }
  // All settle first, so a failure leaves nothing running; an upsert that raced another fails with E11000.
  const failed = (await Promise.allSettled(ops)).filter((r) => r.status === "rejected");
  expect(failed.map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
  const docs = await col.find({}).toArray();
  expect(docs.filter((d) => d.group === "g").map((d) => d.k)).toEqual(Array.from({ length: 20 }, () => 120));
  // The upserts: one document, inserted once, incremented by every other call.
  expect(docs.filter((d) => d._id === "up")).toEqual([{ _id: "up", k: 120, group: "u" }]);
}, 60_000);

test("a delete never removes a document that a concurrent update changed to no longer match", async () => {
  for (let round = 0; round < 15; round++) {
    const name = `moves${round}`;
    await a.db(dbName).collection<{ _id: number; group: string }>(name).insertMany(Array.from({ length: 40 }, (_, i) => ({ _id: i, group: "g" })));
    const [upd, del] = await Promise.all([
      a.db(dbName).collection(name).updateMany({ group: "g" }, { $set: { group: "h" } }),
      b.db(dbName).collection(name).deleteMany({ group: "g" }),
    ]);
    // Either order is fine; a document both moved to "h" and deleted as "g" is not.
    expect(upd.modifiedCount + del.deletedCount).toBe(40);
    expect(await a.db(dbName).collection(name).countDocuments({ group: "h" })).toBe(upd.modifiedCount);
  }
}, 60_000);
