import { expect, test } from "bun:test";
import { KeyedQueue } from "../../src/domain/keyed-queue.ts";

test("tasks of one key run one at a time in order; other keys are not held up; a failure does not stop the queue", async () => {
  const q = new KeyedQueue();
  const log: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const task = (name: string, fail = false) => async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    await Bun.sleep(1);
    log.push(name);
    running--;
    if (fail) throw new Error(name);
    return name;
  };
  const results = await Promise.allSettled([
    q.run("a", task("a1")),
    q.run("a", task("a2", true)),
    q.run("a", task("a3")),
  ]);
  expect(log).toEqual(["a1", "a2", "a3"]);
  expect(maxRunning).toBe(1);
  expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  await Bun.sleep(0);
  expect(q.size).toBe(0);
});
