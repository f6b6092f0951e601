import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { MongoClient, ObjectId } from "mongodb";
import { loadConfig } from "../../src/config.ts";
import { startEmbeddedDb } from "../../src/embedded-db/embedded-db.ts";
import { waitForPort } from "../../src/embedded-db/free-port.ts";
import { waitUntil } from "../helpers/wait.ts";
import { createLogger } from "../../src/logger.ts";
import { startServer } from "../../src/server.ts";

const projectRoot = resolve(import.meta.dir, "../..");

test("the embedded FerretDB starts on a free port, keeps data across restarts, and stops cleanly", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "chat-embedded-"));
  const first = await startEmbeddedDb({ dataDir, projectRoot, preferFerretDb: true });
  expect(first.kind).toBe("ferretdb");
  const c1 = new MongoClient(first.url);
  await c1.db("persist").collection("things").insertOne({ name: "kept" });
  await c1.close();
  const port = Number(new URL(first.url).port);
  await first.stop();
  await expect(waitForPort("127.0.0.1", port, 300)).rejects.toThrow(/nothing listens/);

  const second = await startEmbeddedDb({ dataDir, projectRoot, preferFerretDb: true });
  const c2 = new MongoClient(second.url);
  expect(await c2.db("persist").collection("things").findOne({ name: "kept" })).toMatchObject({ name: "kept" });
  await c2.close();
  await second.stop();
}, 120_000);

test("two embedded servers with different data dirs run at once", async () => {
  const [a, b] = await Promise.all([
    startEmbeddedDb({ dataDir: mkdtempSync(join(tmpdir(), "chat-a-")), projectRoot, preferFerretDb: true }),
    startEmbeddedDb({ dataDir: mkdtempSync(join(tmpdir(), "chat-b-")), projectRoot, preferFerretDb: true }),
  ]);
  expect(a.url).not.toBe(b.url);
  await Promise.all([a.stop(), b.stop()]);
}, 120_000);

test("GET /health answers 503 when the database goes away, and the server keeps answering", async () => {
  const db = await startEmbeddedDb({ dataDir: mkdtempSync(join(tmpdir(), "chat-down-")), projectRoot, preferFerretDb: true });
  const cfg = loadConfig({ NODE_ENV: "test", HOST: "127.0.0.1", PORT: "0", JWT_SECRET_KEY: "s".repeat(40), LOG_LEVEL: "silent" });
  const server = await startServer(cfg, db.url, createLogger("silent"));
  expect((await server.app.request("/health")).status).toBe(200);
  await db.stop();
  // /health answers from the cached state (db/health.ts), which notices within a ping interval.
  await waitUntil(async () => (await server.app.request("/health")).status === 503, 8000, "/health to report the database down");
  const res = await server.app.request("/health");
  expect(res.status).toBe(503);
  expect(await res.json()).toMatchObject({ status: "degraded", database: "down" });
  const login = await server.app.request("/api/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "a@b.co", name: "A" }),
  });
  expect(login.status).toBe(503);
  await server.stop();
}, 60_000);

test("the embedded FerretDB finds, updates and deletes by _id through the _id index (our patch), not by a table scan", async () => {
  const db = await startEmbeddedDb({ dataDir: mkdtempSync(join(tmpdir(), "chat-idx-")), projectRoot, preferFerretDb: true });
  const client = new MongoClient(db.url);
  try {
    const col = client.db("idx").collection<{ _id: ObjectId; n: number }>("things");
    const ids = Array.from({ length: 50 }, () => new ObjectId());
    await col.insertMany(ids.map((_id, n) => ({ _id, n })));
    // FerretDB's explain returns SQLite's own query plan for the statement it runs.
    const explain = (await client.db("idx").command({ explain: { find: "things", filter: { _id: ids[7] } } })) as {
      queryPlanner: { Plan: string[] };
    };
    const plan = explain.queryPlanner.Plan.join("\n");
    expect(plan).toContain("USING INDEX");
    expect(plan).not.toMatch(/\bSCAN\b/);
    // The same expression serves updates and deletes: they still hit exactly the one document.
    expect((await col.updateOne({ _id: ids[7]! }, { $inc: { n: 100 } })).modifiedCount).toBe(1);
    expect(await col.findOne({ _id: ids[7]! })).toEqual({ _id: ids[7]!, n: 107 });
    expect((await col.deleteOne({ _id: ids[8]! })).deletedCount).toBe(1);
    expect(await col.countDocuments()).toBe(49);
  } finally {
    await client.close();
    await db.stop();
  }
}, 120_000);
