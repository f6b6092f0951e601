/**
 * Queries on fields of indexes named scalar_* (on the embedded FerretDB: our
 * patch tools/ferretdb/patches/scalar-index-pushdown.diff) give the same results
 * as the same queries answered without pushdown (a collection with the same
 * documents and a plain index of the same keys), and SQLite answers them from the
 * index: no table scan, and no sort step for the history pages.
 * On a real MongoDB the names are irrelevant and only the result checks apply.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Double, Long, MongoClient, ObjectId, type Collection, type Document, type Filter, type Sort } from "mongodb";
import { testMongoUrl, uniqueDbName } from "../helpers/server.ts";

const dbName = uniqueDbName("ferretscalar");
const isFerret = process.env.TEST_DB_KIND === "ferretdb";
let client: MongoClient;

const CONVS = [...Array.from({ length: 12 }, (_, i) => `c${String(i).padStart(2, "0")}`), new ObjectId(), new ObjectId()];
const PER_CONV = 150;
const HUGE = 2.078130881126453e290;
const objIds: ObjectId[] = [];
const strIds: string[] = [];

/** seq as the application might store it: mostly int32, some long, some double (integral or not), some huge. */
function seqValue(conv: number, i: number): unknown {
  if (conv === 11) return Long.fromString(String(2 ** 40 + i * 1000)); // beyond int32
  if (i % 11 === 0) return new Double(i + 0.5);
  if (i % 5 === 0) return new Double(i);
  if (i % 7 === 0) return Long.fromNumber(i);
  return i;
}

function messages(): Document[] {
  const docs: Document[] = [];
  const t0 = Date.UTC(2026, 0, 1);
  CONVS.forEach((c, ci) => {
    for (let i = 1; i <= PER_CONV; i++) {
      const _id = new ObjectId();
      if (ci === 0 && i <= 150) objIds.push(_id);
      docs.push({ _id, conversation_id: c, seq: seqValue(ci, i), text: `m${ci}-${i}`, created_at: new Date(t0 + ci * 1_000_000 + i * 997) });
    }
  });
  // Edge cases in c03: missing, null and string seq (string and number never compare in MongoDB).
  docs.push({ _id: "s-missing", conversation_id: "c03", text: "no seq", created_at: new Date(t0 - 5) });
  docs.push({ _id: "s-null", conversation_id: "c03", seq: null, text: "null seq", created_at: new Date(t0 - 6) });
  docs.push({ _id: "s-str", conversation_id: "c03", seq: "77", text: "string seq", created_at: new Date(t0 - 7) });
  docs.push({ _id: "s-str2", conversation_id: "c03", seq: "abc", text: "string seq", created_at: new Date(t0 - 8) });
  // SQLite reads this double's JSON text 1 ulp off: equality must not be decided in SQL.
  docs.push({ _id: "s-huge", conversation_id: "c09", seq: HUGE, text: "huge", created_at: new Date(t0 - 9) });
  // String _ids, some with characters JSON escapes.
  for (let i = 0; i < 60; i++) {
    const _id = i % 10 === 0 ? `id<&>"\\é${i}` : `id-${i}`;
    strIds.push(_id);
    docs.push({ _id, conversation_id: "c05", seq: 10_000 + i, text: "string id", created_at: new Date(t0 + 10_000_000 + i) });
  }
  return docs;
}

const FIRST = ["ali", "alice", "alï", "Ali", "bob", "al", "alia", "zed", "ali\uffff", "ålí", "ali z", "ali-1", "ali10", "ali9"];
function users(): Document[] {
  return Array.from({ length: 1500 }, (_, i) => {
    const name = `${FIRST[i % FIRST.length]}${i % 3 === 0 ? "" : String(i)}`;
    return { _id: new ObjectId(), email: `${name.toLowerCase()}@x${i}.co`, name, name_lower: name.toLowerCase() };
  });
}

function members(): Document[] {
  const userIds = Array.from({ length: 6 }, () => new ObjectId());
  const docs: Document[] = [];
  for (let i = 0; i < 2400; i++) docs.push({ _id: new ObjectId(), user: i % 5 === 0 ? `u${i % 3}` : userIds[i % 6], conversation_id: `c${i}`, role: "member" });
  return docs;
}

interface Pair {
  scalar: Collection<Document>;
  plain: Collection<Document>;
}
const cols: Record<"messages" | "users" | "members", Pair> = {} as never;

async function seed(name: keyof typeof cols, docs: Document[], indexes: { key: Record<string, 1 | -1>; name: string }[]) {
  const db = client.db(dbName);
  const pair = { scalar: db.collection(name), plain: db.collection(`${name}_plain`) };
  for (const ix of indexes) {
    await pair.scalar.createIndex(ix.key, { name: `scalar_${ix.name}` });
    await pair.plain.createIndex(ix.key, { name: ix.name });
  }
  await pair.scalar.insertMany(docs.map((d) => ({ ...d })));
  await pair.plain.insertMany(docs.map((d) => ({ ...d })));
  cols[name] = pair;
}

beforeAll(async () => {
  client = new MongoClient(testMongoUrl());
  await seed("messages", messages(), [
    { key: { conversation_id: 1, seq: 1 }, name: "conversation_seq" },
    { key: { created_at: -1 }, name: "created" },
  ]);
  await seed("users", users(), [
    { key: { email: 1 }, name: "email" },
    { key: { name_lower: 1 }, name: "name_lower" },
  ]);
  await seed("members", members(), [{ key: { user: 1, conversation_id: 1 }, name: "user" }]);
}, 60_000);

afterAll(async () => {
  await client.db(dbName).dropDatabase().catch(() => {});
  await client.close();
}, 30_000);

interface Q {
  filter: Document;
  sort?: Sort;
  skip?: number;
  limit?: number;
}

const run = (c: Collection<Document>, q: Q) => {
  let cur = c.find(q.filter as Filter<Document>);
  if (q.sort) cur = cur.sort(q.sort);
  if (q.skip) cur = cur.skip(q.skip);
  if (q.limit) cur = cur.limit(q.limit);
  return cur.toArray();
};

/** Same documents in the same order; documents whose sort key ties may come in either order. */
async function expectSameResults(pair: Pair, q: Q, expectedCount?: number) {
  const [got, want] = await Promise.all([run(pair.scalar, q), run(pair.plain, q)]);
  if (expectedCount !== undefined) expect(want.length).toBe(expectedCount);
  const sortKeys = q.sort ? Object.keys(q.sort as Record<string, unknown>) : [];
  const key = (d: Document) => JSON.stringify(sortKeys.map((k) => d[k] ?? null));
  expect(got.map(key)).toEqual(want.map(key));
  const ties = new Set(want.map(key)).size !== want.length;
  if (!ties || !q.limit) {
    const ids = (ds: Document[]) => ds.map((d) => String(d._id)).sort();
    expect(ids(got)).toEqual(ids(want));
  }
  if (!q.sort) expect(got.length).toBe(want.length);
  return got;
}

async function plan(coll: string, q: Q) {
  const res = (await client.db(dbName).command({
    explain: { find: coll, filter: q.filter, ...(q.sort ? { sort: q.sort } : {}), ...(q.skip ? { skip: Long.fromNumber(q.skip) } : {}), ...(q.limit ? { limit: Long.fromNumber(q.limit) } : {}) },
  })) as { queryPlanner: { Plan: string[] }; filterPushdown: boolean; sortPushdown: boolean; limitPushdown: boolean };
  return { text: res.queryPlanner.Plan.join("\n"), ...res };
}

/** SQLite reads only the index range (no full scan) and, when asked, needs no sort step. */
async function expectIndexPlan(coll: string, index: string, q: Q, opts: { sorted?: boolean } = {}) {
  if (!isFerret) return;
  const p = await plan(coll, q);
  expect(p.text).toContain(`USING INDEX`);
  expect(p.text).toContain(index);
  expect(p.text).not.toMatch(/\bSCAN\b/);
  expect(p.filterPushdown).toBe(true);
  if (opts.sorted) {
    expect(p.text).not.toContain("TEMP B-TREE");
    expect(p.sortPushdown).toBe(true);
    expect(p.limitPushdown).toBe(true);
  }
}

describe("messages: history pages on scalar_conversation_seq {conversation_id: 1, seq: 1}", () => {
  const convs = () => [CONVS[12]!, "c03", "c05", "c11", "nope"];

  test("{conversation_id} sort {seq: -1} limit L, with and without skip", async () => {
    for (const c of convs()) {
      for (const q of [
        { filter: { conversation_id: c }, sort: { seq: -1 }, limit: 50 },
        { filter: { conversation_id: c }, sort: { seq: -1 }, skip: 30, limit: 20 },
        { filter: { conversation_id: c }, sort: { seq: -1 }, skip: 145, limit: 20 },
        { filter: { conversation_id: c }, sort: { seq: 1 }, limit: 7 },
        { filter: { conversation_id: c }, sort: { seq: -1 }, limit: 1000 },
      ] as Q[]) {
        await expectSameResults(cols.messages, q);
      }
    }
    await expectIndexPlan("messages", "scalar_conversation_seq", { filter: { conversation_id: "c01" }, sort: { seq: -1 }, limit: 50 }, { sorted: true });
    await expectIndexPlan("messages", "scalar_conversation_seq", { filter: { conversation_id: "c01" }, sort: { seq: -1 }, skip: 10, limit: 50 }, { sorted: true });
    // The edge documents of c03 (string, null and missing seq) sort as in MongoDB: strings above numbers, null/missing below.
    const top = await run(cols.messages.scalar, { filter: { conversation_id: "c03" }, sort: { seq: -1 }, limit: 3 });
    expect(top.map((d) => d.seq)).toEqual(["abc", "77", 150]);
  }, 60_000);

  test("{conversation_id, seq: {$lt: S}} sort {seq: -1} limit L (older page)", async () => {
    for (const c of convs()) {
      for (const s of [100.5, 55, new Double(60), Long.fromNumber(21), 2 ** 40 + 50_000, 10_030]) {
        await expectSameResults(cols.messages, { filter: { conversation_id: c, seq: { $lt: s } }, sort: { seq: -1 }, limit: 50 });
      }
    }
    await expectSameResults(cols.messages, { filter: { conversation_id: "c02", seq: { $lt: 100 } }, sort: { seq: -1 }, limit: 50 }, 50);
    await expectIndexPlan("messages", "scalar_conversation_seq", { filter: { conversation_id: "c01", seq: { $lt: 100 } }, sort: { seq: -1 }, limit: 50 }, { sorted: true });
  }, 60_000);

  test("{conversation_id, seq: {$gt: S}} sort {seq: 1} limit L (newer page), and {$gt: A, $lte: B}", async () => {
    for (const c of convs()) {
      for (const s of [0, 99.5, new Double(110), Long.fromNumber(140), 2 ** 40, 10_050]) {
        await expectSameResults(cols.messages, { filter: { conversation_id: c, seq: { $gt: s } }, sort: { seq: 1 }, limit: 50 });
      }
      await expectSameResults(cols.messages, { filter: { conversation_id: c, seq: { $gt: 10, $lte: 40 } } });
      await expectSameResults(cols.messages, { filter: { conversation_id: c, seq: { $gt: 10, $lte: 40 } }, sort: { seq: 1 } });
      await expectSameResults(cols.messages, { filter: { conversation_id: c, seq: { $gte: 55, $lt: 55.5 } }, sort: { seq: -1 }, limit: 5 });
    }
    // The string "77" and the strings in general never match a numeric range, and numbers never match a string range.
    await expectSameResults(cols.messages, { filter: { conversation_id: "c03", seq: { $gt: 0 } }, sort: { seq: 1 }, limit: 500 }, 150);
    await expectSameResults(cols.messages, { filter: { conversation_id: "c03", seq: { $lt: "zzz" } }, sort: { seq: 1 }, limit: 500 }, 2);
    await expectSameResults(cols.messages, { filter: { conversation_id: "c03", seq: { $gte: "" } }, sort: { seq: -1 }, limit: 1 }, 1);
    await expectSameResults(cols.messages, { filter: { conversation_id: "c03", seq: "77" } }, 1);
    await expectSameResults(cols.messages, { filter: { conversation_id: "c03", seq: 77 } }, 0); // 77.5 is stored
    await expectSameResults(cols.messages, { filter: { conversation_id: "c03", seq: 76 } }, 1);
    await expectSameResults(cols.messages, { filter: { conversation_id: "c02", seq: { $in: [5, 6.0, Long.fromNumber(7), 11.5, "8"] } } }, 4);
    await expectIndexPlan("messages", "scalar_conversation_seq", { filter: { conversation_id: "c01", seq: { $gt: 100 } }, sort: { seq: 1 }, limit: 50 }, { sorted: true });
    await expectIndexPlan("messages", "scalar_conversation_seq", { filter: { conversation_id: "c01", seq: { $gt: 10, $lte: 40 } } });
  }, 60_000);

  test("equality on a number matches int, long and double alike; Date ranges and sorts by time", async () => {
    for (const s of [5, new Double(5), Long.fromNumber(5), 14, new Double(14), 11.5, 11]) {
      await expectSameResults(cols.messages, { filter: { conversation_id: "c04", seq: s } }, s === 11 ? 0 : 1);
    }
    await expectSameResults(cols.messages, { filter: { conversation_id: "c09", seq: HUGE } }, 1);
    await expectSameResults(cols.messages, { filter: { conversation_id: "c09", seq: { $gte: HUGE } }, sort: { seq: -1 }, limit: 1 }, 1);
    await expectSameResults(cols.messages, { filter: { conversation_id: "c09", seq: { $lte: 1e80 } }, sort: { seq: -1 }, limit: 1 }, 1);
    const from = new Date(Date.UTC(2026, 0, 1) + 3_000_000);
    for (const q of [
      { filter: { created_at: { $gte: from } }, sort: { created_at: -1 }, limit: 30 },
      { filter: { created_at: { $lt: from } }, sort: { created_at: -1 }, skip: 5, limit: 30 },
      { filter: { created_at: { $gt: from, $lte: new Date(from.getTime() + 100_000) } }, sort: { created_at: 1 }, limit: 1000 },
      { filter: { created_at: from } },
    ] as Q[]) {
      await expectSameResults(cols.messages, q);
    }
    await expectIndexPlan("messages", "scalar_created", { filter: { created_at: { $lt: from } }, sort: { created_at: -1 }, limit: 30 }, { sorted: true });
  }, 60_000);

  test("filters with anything not pushed down still give MongoDB's results (no SQL limit then)", async () => {
    for (const q of [
      { filter: { conversation_id: "c01", text: "m1-100" }, sort: { seq: -1 }, limit: 5 },
      { filter: { conversation_id: "c01", seq: { $ne: 100 } }, sort: { seq: -1 }, limit: 5 },
      { filter: { conversation_id: { $in: ["c01", "c02"] }, seq: { $lte: 3 } }, sort: { seq: 1, conversation_id: 1 }, limit: 5 },
      { filter: { conversation_id: "c01", seq: { $exists: true } }, sort: { seq: -1 }, limit: 5 },
      { filter: { $or: [{ conversation_id: "c01" }, { conversation_id: "c02" }] }, sort: { seq: -1 }, limit: 5 },
      { filter: { conversation_id: "c03", seq: null } },
      { filter: { conversation_id: "c01" }, sort: { text: 1 }, limit: 5 },
      { filter: { conversation_id: "c01" }, sort: { _id: -1 }, limit: 5 },
      { filter: {}, sort: { seq: -1 }, limit: 5 },
      { filter: {}, skip: 10, limit: 5, sort: { created_at: 1 } },
    ] as Q[]) {
      await expectSameResults(cols.messages, q);
    }
    if (isFerret) {
      const p = await plan("messages", { filter: { conversation_id: "c01", text: "x" }, sort: { seq: -1 }, limit: 5 });
      expect([p.filterPushdown, p.sortPushdown, p.limitPushdown]).toEqual([true, false, false]);
    }
  }, 60_000);

  test("countDocuments and updates by a scalar_ filter", async () => {
    for (const f of [{ conversation_id: "c03" }, { conversation_id: "c03", seq: { $lt: 50 } }, { conversation_id: "c07", seq: { $gte: 1, $lte: 10 } }]) {
      expect(await cols.messages.scalar.countDocuments(f)).toBe(await cols.messages.plain.countDocuments(f));
    }
    for (const pair of [cols.messages.scalar, cols.messages.plain]) {
      const r = await pair.updateMany({ conversation_id: "c08", seq: { $gt: 130 } }, { $set: { edited: true } });
      expect(r.modifiedCount).toBe(20);
    }
    await expectSameResults(cols.messages, { filter: { conversation_id: "c08", edited: true } }, 20);
  }, 60_000);
});

test("_id: {$in: [200 ids]} of ObjectIds and strings is an index lookup", async () => {
  const ids = [...objIds, ...strIds.slice(0, 50)];
  expect(ids.length).toBe(200);
  const got = await expectSameResults(cols.messages, { filter: { _id: { $in: ids } } }, 200);
  expect(new Set(got.map((d) => String(d._id)))).toEqual(new Set(ids.map(String)));
  await expectSameResults(cols.messages, { filter: { _id: { $in: [...strIds.slice(0, 10), "nope", new ObjectId()] } } }, 10);
  await expectSameResults(cols.messages, { filter: { _id: strIds[0]! } }, 1);
  await expectSameResults(cols.messages, { filter: { _id: { $in: [objIds[3]!, 5] } } }, 1);
  await expectIndexPlan("messages", "_id_", { filter: { _id: { $in: ids } } });
}, 60_000);

test("members: {user: U} on scalar_user {user: 1, conversation_id: 1}, hundreds of results", async () => {
  const byKey = new Map((await cols.members.plain.find({}).toArray()).map((d) => [String(d.user), d.user]));
  const users = [...byKey.values()];
  expect(users.length).toBe(9);
  for (const u of users) await expectSameResults(cols.members, { filter: { user: u } });
  const some = await expectSameResults(cols.members, { filter: { user: users[1] } });
  expect(some.length).toBeGreaterThan(300);
  await expectSameResults(cols.members, { filter: { user: users[1], conversation_id: { $gte: "c1", $lt: "c2" } } });
  await expectSameResults(cols.members, { filter: { user: users[1] }, sort: { conversation_id: 1 }, limit: 25 });
  await expectIndexPlan("members", "scalar_user", { filter: { user: users[1] } });
  await expectIndexPlan("members", "scalar_user", { filter: { user: users[1] }, sort: { conversation_id: 1 }, limit: 25 }, { sorted: true });
}, 60_000);

test("users: prefix search as a range on scalar_email and scalar_name_lower, sort, limit 20", async () => {
  for (const field of ["email", "name_lower"]) {
    for (const prefix of ["ali", "al", "alï", "å", "", "zzz", "ali9"]) {
      await expectSameResults(cols.users, { filter: { [field]: { $gte: prefix, $lt: `${prefix}\uffff` } }, sort: { [field]: 1 }, limit: 20 });
      await expectSameResults(cols.users, { filter: { [field]: { $gte: prefix, $lt: `${prefix}\uffff` } }, sort: { [field]: 1 }, skip: 20, limit: 20 });
    }
    await expectIndexPlan("users", `scalar_${field}`, { filter: { [field]: { $gte: "ali", $lt: "ali\uffff" } }, sort: { [field]: 1 }, limit: 20 }, { sorted: true });
  }
  await expectSameResults(cols.users, { filter: { email: { $in: ["ali@x3.co", "ali@x0.co", "nobody"] } } }, 2);
}, 60_000);

test("a unique scalar_ index still rejects duplicates, and int/double of one value are duplicates as in MongoDB", async () => {
  const col = client.db(dbName).collection("accounts");
  await col.createIndex({ email: 1 }, { unique: true, name: "scalar_email_unique" });
  await col.insertOne({ email: "a@b.co", n: 1 });
  await expect(col.insertOne({ email: "a@b.co", n: 2 })).rejects.toMatchObject({ code: 11000 });
  await col.insertOne({ email: "b@b.co", n: 2 });
  // (FerretDB reports a unique violation by an update as a generic error, not E11000, whatever the index name.)
  await expect(col.updateOne({ email: "b@b.co" }, { $set: { email: "a@b.co" } })).rejects.toThrow(/11000|UNIQUE/);
  const nums = client.db(dbName).collection("unique_nums");
  await nums.createIndex({ k: 1 }, { unique: true, name: "scalar_k" });
  await nums.insertOne({ k: 5 });
  await expect(nums.insertOne({ k: new Double(5) })).rejects.toMatchObject({ code: 11000 });
  await nums.insertOne({ k: "5" });
  expect(await col.find({ email: "a@b.co" }).toArray()).toMatchObject([{ email: "a@b.co", n: 1 }]);
}, 60_000);
