import { expect, test } from "bun:test";
import { Semaphore } from "../../src/domain/semaphore.ts";

test("no more than `limit` tasks run at once, all finish, failures release their slot", async () => {
  const sem = new Semaphore(2);
  let running = 0;
  let peak = 0;
  const task = (fail: boolean) => async () => {
    running++;
    peak = Math.max(peak, running);
    await Bun.sleep(2);
    running--;
    if (fail) throw new Error("boom");
    return 1;
  };
  const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => sem.run(task(i % 3 === 0))));
  expect(peak).toBe(2);
  expect(results.filter((r) => r.status === "fulfilled").length).toBe(6);
  expect(await sem.run(async () => "after")).toBe("after");
});
