/**
 * `bun src/main.ts` as a real process: it starts (the whole import graph in
 * its real order), serves, and on SIGTERM drains and exits 0 within the
 * bounded time, with no error line.
 */
import { afterAll, expect, test } from "bun:test";
import { resolve } from "node:path";
import { MongoClient } from "mongodb";
import { testMongoUrl, uniqueDbName } from "../helpers/server.ts";

const dbName = uniqueDbName("mainprocess");
afterAll(async () => {
  const c = new MongoClient(testMongoUrl());
  await c.db(dbName).dropDatabase().catch(() => {});
  await c.close();
});

test("starts, answers, and exits 0 on SIGTERM after a graceful drain", async () => {
  const proc = Bun.spawn(["bun", resolve(import.meta.dir, "../../src/main.ts")], {
    env: { ...process.env, MONGODB_URL: testMongoUrl(), DATABASE_NAME: dbName, HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "info", NODE_ENV: "test" },
    stderr: "pipe",
  });
  const lines: Record<string, any>[] = [];
  const reader = proc.stderr.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  /** Reads log lines until one matches (or the process ends: then fails with what it said). */
  async function until(match: (l: Record<string, any>) => boolean): Promise<Record<string, any>> {
    for (;;) {
      const found = lines.find(match);
      if (found) return found;
      const { value, done } = await reader.read();
      if (done) throw new Error(`process ended first:\n${lines.map((l) => JSON.stringify(l)).join("\n")}${buffered}`);
      buffered += decoder.decode(value);
      const parts = buffered.split("\n");
      buffered = parts.pop() ?? "";
      for (const p of parts) if (p.trim()) lines.push(JSON.parse(p));
    }
  }
  const listening = await until((l) => l.msg === "chat backend listening");
  const health = await fetch(`${listening.url}/health`);
  expect(health.status).toBe(200);

  const t0 = Date.now();
  proc.kill("SIGTERM");
  await until((l) => l.msg === "stopped");
  expect(await proc.exited).toBe(0);
  expect(Date.now() - t0).toBeLessThan(10_000);
  expect(lines.filter((l) => l.level === "error")).toEqual([]);
}, 30_000);
