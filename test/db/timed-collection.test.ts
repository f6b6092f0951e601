/**
 * Database command timings for the metrics come from wrapped collections (src/db/timed-collection.ts), not from
 * the driver's command monitoring, which decodes every reply a second time (a third of a list request's CPU).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connectDatabase, type Database } from "../../src/db/mongo.ts";
import { timedCollection } from "../../src/db/timed-collection.ts";
import { api, login } from "../helpers/api.ts";
import { startTestServer, testMongoUrl, uniqueDbName, type TestServer } from "../helpers/server.ts";

let db: Database;
let s: TestServer;
beforeAll(async () => {
  db = await connectDatabase(testMongoUrl(), uniqueDbName("timed"));
  s = await startTestServer("timed", { METRICS_TOKEN: "metrics-token-0123456789" });
});
afterAll(async () => {
  await db.db.dropDatabase();
  await db.close();
  await s.stopAndDrop();
});

test("each method is timed under its wire command, failures included; cursors in toArray", async () => {
  const seen: [string, boolean][] = [];
  const col = timedCollection(db.db.collection<{ _id: string; n: number }>("things"), (command, seconds, failed) => {
    expect(seconds).toBeGreaterThanOrEqual(0);
    seen.push([command, failed]);
  });
  await col.insertOne({ _id: "a", n: 1 });
  await col.insertOne({ _id: "a", n: 2 }).catch(() => {});
  const cursor = col.find({});
  expect(seen).toHaveLength(2);
  expect(await cursor.toArray()).toEqual([{ _id: "a", n: 1 }]);
  await col.findOneAndUpdate({ _id: "a" }, { $inc: { n: 1 } });
  await col.updateOne({ _id: "a" }, { $inc: { n: 1 } });
  expect(await col.findOne({ _id: "a" })).toEqual({ _id: "a", n: 3 });
  await col.deleteMany({});
  expect(col.collectionName).toBe("things");
  expect(seen).toEqual([
    ["insert", false],
    ["insert", true],
    ["find", false],
    ["findAndModify", false],
    ["update", false],
    ["find", false],
    ["delete", false],
  ]);
});

test("the server times its commands without the driver's command monitoring", async () => {
  expect(s.db.client.options.monitorCommands).toBe(false);
  const ada = await login(s, "ada@timed.test");
  await api(s, "GET", "/api/conversations", { token: ada.token });
  const text = await (await s.app.request("/metrics", { headers: { authorization: "Bearer metrics-token-0123456789" } })).text();
  const count = (command: string) => Number(text.match(new RegExp(`^chat_db_command_duration_seconds_count\\{command="${command}"\\} (\\d+)`, "m"))?.[1] ?? 0);
  expect(count("find")).toBeGreaterThan(0);
  expect(count("createIndexes")).toBeGreaterThan(0);
  expect(Number(text.match(/^chat_list_cache_misses_total (\d+)/m)?.[1])).toBeGreaterThan(0);
});
