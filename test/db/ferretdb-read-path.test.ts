/**
 * The read-path patches of the embedded FerretDB (tools/ferretdb/PATCHES.md,
 * "Read path"): documents of every type come back exactly as stored (the fast
 * row decoder, and the generic one it falls back to), in stored key order with
 * _id first, with or without a projection (no copy without projection), and a
 * NaN sent by a client is still refused (the reply check removed from the wire
 * module kept the request check). On the embedded FerretDB it also runs the Go
 * tests the patches add, in the patched source trees, nice'd.
 * On a real MongoDB only the round-trip and projection checks apply.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { Binary, BSON, BSONRegExp, Double, Int32, Long, MongoClient, ObjectId, Timestamp, type Document } from "mongodb";
import { testMongoUrl, uniqueDbName } from "../helpers/server.ts";

const dbName = uniqueDbName("ferretread");
const isFerret = process.env.TEST_DB_KIND === "ferretdb";
const root = resolve(import.meta.dir, "../..");
let client: MongoClient;

/** Documents with string or ObjectId _ids. */
type Loose = { _id: string | ObjectId } & Document;
const RAW = { promoteValues: false, promoteLongs: false, promoteBuffers: false } as const;
/** Canonical extended JSON: exact BSON types, and key order. */
const exact = (d: unknown) => BSON.EJSON.stringify(d, { relaxed: false });

const t0 = new Date(Date.UTC(2026, 11, 7, 8, 0, 0, 123));
const oid = new ObjectId("6501020304050607080900ff");
/** Shapes the application writes (fast path) and shapes only the generic decoder handles. */
function docs(): Document[] {
  return [
    // A message, a conversation, a membership: what the list and history pages read.
    {
      _id: new ObjectId(),
      conversation_id: oid.toHexString(),
      seq: new Int32(42),
      sender_email: "a.b@example.com",
      message: "héllo wörld ✓ 𝄞 <&> \u2028",
      timestamp: t0,
      edited: false,
      edited_at: null,
      client_id: null,
    },
    {
      _id: new ObjectId(),
      participants: ["a@x.io", "b@x.io"],
      direct_key: "a@x.io\nb@x.io",
      last_message: 'quote " backslash \\ tab \t cr \r nul \u0000 unit \u001f del \u007f',
      last_activity: t0,
      last_seq: new Int32(2000),
      unread: [new Int32(0), new Int32(2000)],
      last_read_at: [null, t0],
    },
    {
      _id: "string-id <&>\"\\é",
      numbers: [new Int32(2147483647), new Int32(-2147483648), Long.fromString("9223372036854775807"), Long.fromString("-9223372036854775808")],
      doubles: [new Double(0.5), new Double(42), new Double(1.7976931348623157e308), new Double(5e-324), new Double(-3.25e-7)],
      dates: [new Date(0), new Date(-62135596800000), new Date(8640000000000000)],
      nested: { a: { b: { c: [1, "2", { d: ["deep", { e: null }] }] } }, empty: {}, emptyArray: [] }, // FerretDB stores no arrays in arrays
      bools: [true, false],
    },
    // Left to the generic decoder: binary, regex, timestamp; and a string with a surrogate pair written by a client.
    {
      _id: new ObjectId(),
      bin: new Binary(Buffer.from([0, 1, 2, 255]), 0),
      regex: new BSONRegExp("^a.c$", "i"),
      nested: { ts: new Timestamp({ t: 1700000000, i: 7 }) },
      emoji: "\ud83d\ude00",
    },
  ];
}

beforeAll(async () => {
  client = new MongoClient(testMongoUrl());
  await client.connect();
});

afterAll(async () => {
  await client.db(dbName).dropDatabase();
  await client.close();
});

describe("documents come back exactly as stored", () => {
  test("by _id and by a scan, every type, key order kept", async () => {
    const col = client.db(dbName).collection<Loose>("roundtrip");
    const inserted = docs();
    await col.insertMany(inserted.map((d) => ({ ...d }) as Loose));
    for (const d of inserted) {
      const got = await col.findOne({ _id: d._id }, RAW);
      expect(exact(got)).toBe(exact(d));
    }
    const all = await col.find({}, RAW).sort({ _id: 1 }).toArray();
    expect(all.length).toBe(inserted.length);
    const byId = new Map(inserted.map((d) => [exact(d._id), d]));
    for (const got of all) expect(exact(got)).toBe(exact(byId.get(exact(got._id))));
  });

  test("_id is first even when the client sent it later; projections still project", async () => {
    const col = client.db(dbName).collection<Loose>("projection");
    await col.insertOne({ a: 1, b: "two", _id: "later", c: { d: 3 } });
    const plain = await col.findOne({ _id: "later" });
    expect(Object.keys(plain!)).toEqual(["_id", "a", "b", "c"]);
    expect(plain).toEqual({ _id: "later", a: 1, b: "two", c: { d: 3 } });
    expect(await col.findOne({ _id: "later" }, { projection: { b: 1 } })).toEqual({ _id: "later", b: "two" });
    const excluded: Document | null = await col.findOne({ _id: "later" }, { projection: { b: 0, _id: 0 } });
    expect(excluded).toEqual({ a: 1, c: { d: 3 } });
    // A document read twice is decoded twice: a change between the reads shows (nothing cached but schemas).
    await col.updateOne({ _id: "later" }, { $set: { b: "three" } });
    expect((await col.findOne({ _id: "later" }))!.b).toBe("three");
  });

  test("a page of many documents of one shape (schema cache) decodes each document's own values", async () => {
    const col = client.db(dbName).collection<Loose>("page");
    const page = Array.from({ length: 300 }, (_, i) => ({ _id: `m${String(i).padStart(3, "0")}`, seq: i, text: i % 3 ? `text ${i}` : `line\n${i} "q"`, at: new Date(t0.getTime() + i) }));
    await col.insertMany(page);
    const got = await col.find({}).sort({ _id: 1 }).toArray();
    expect(got).toEqual(page);
  });
});

if (isFerret) {
  describe("embedded FerretDB", () => {
    test("a NaN sent by a client is still refused (the request check stays)", async () => {
      const col = client.db(dbName).collection<Loose>("nan");
      let refused = false;
      try {
        await col.insertOne({ _id: "nan", v: Number.NaN });
      } catch {
        refused = true;
      }
      expect(refused).toBe(true);
      expect(await col.countDocuments({ _id: "nan" })).toBe(0);
    });

    /** Runs `go test` in a patched source tree (the one the binary was built from). */
    async function goTest(srcDir: string, args: string[]) {
      const dir = join(root, ".cache", "ferretdb", srcDir);
      expect(existsSync(dir)).toBe(true);
      const proc = Bun.spawn(["nice", "-n", "10", "go", "test", "-count=1", ...args], {
        cwd: dir,
        env: { ...process.env, CGO_ENABLED: "0", GOFLAGS: "-mod=mod" },
        stdout: "pipe",
        stderr: "pipe",
      });
      const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
      if (code !== 0) throw new Error(`go test ${args.join(" ")} in ${srcDir} failed:\n${out}\n${err}`);
      expect(out).toMatch(/^ok\s/m);
    }

    test("Go tests of fast-sjson-decode, release-no-leak-tracking, no-copy-without-projection and consume-values-growing pass", async () => {
      await goTest("src-v1.24.2", [
        "-run",
        "TestFastUnmarshal|TestMarshalUnmarshal|TestUnmarshalInvalid|TestTrackOnlyInDebugBuilds|TestProjectionIteratorWithoutProjection|TestConsumeValuesNGrowsInsteadOfReservingN",
        "./internal/handler/sjson/",
        "./internal/util/resource/",
        "./internal/handler/common/",
        "./internal/util/iterator/",
      ]);
    }, 600_000);

    test("Go test of wire-no-reply-recheck passes (and the module's message tests)", async () => {
      await goTest("src-wire-v0.0.8", ["-run", "TestReplyNotRecheckedRequestChecked|TestMsg", "."]);
    }, 600_000);
  });
}
