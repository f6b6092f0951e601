/**
 * The soak's 60-second variant (bench/soak, issue #12 §3): 40 socket.io-client users in pairs, transports
 * dropped every few seconds, one server restart (SIGTERM, same port), one database kill. Every acked message
 * reaches its recipient once and is stored once; short drops are recovered without a sync.
 * The server is a child process on a database of its own (the soak kills it), not the test run's.
 */
import { expect, test } from "bun:test";
import { resolve } from "node:path";
import { TEST } from "../../bench/soak/params.ts";
import { soakLine, soakTable } from "../../bench/soak/report.ts";
import { runSoak } from "../../bench/soak/soak.ts";

test("soak: no message lost, duplicated or unstored under drops and restarts; short drops recovered", async () => {
  const r = await runSoak(resolve(import.meta.dir, "../.."), TEST);
  const summary = `${soakTable(r)}\n${soakLine(r)}`;
  if (process.env.SOAK_PRINT) console.log(summary);
  expect(r.acked, summary).toBeGreaterThan(0);
  expect({ missing: r.missing, missingBeforeFinalSync: r.missingBeforeFinalSync, unstored: r.unstored }, summary).toEqual({ missing: 0, missingBeforeFinalSync: 0, unstored: 0 });
  expect({ duplicates: r.duplicatesAfterDedupe, storedTwice: r.storedTwice, seqGaps: r.seqGaps }, summary).toEqual({
    duplicates: 0,
    storedTwice: 0,
    seqGaps: 0,
  });
  // The same id delivered twice can happen only when a drop falls between a broadcast and its offset marker
  // (README "The protocol layer": that broadcast is replayed); clients dedupe by id. Seen once in ~350 drops.
  expect(r.rawDuplicates, summary).toBeLessThanOrEqual(Math.max(1, Math.ceil(r.shortRecoveredNoRestart * 0.01)));
  expect({ stuck: r.stuckClients, notCaughtUp: r.notCaughtUp, serverErrors: r.serverErrorLines }, summary).toEqual({ stuck: 0, notCaughtUp: 0, serverErrors: 0 });
  expect(r.dbRestarts, summary).toBe(1);
  expect(r.shortDropsNoRestart, summary).toBeGreaterThan(50);
  expect(r.shortRecoveredNoRestart / r.shortDropsNoRestart, summary).toBeGreaterThanOrEqual(0.99);
}, 120_000);
