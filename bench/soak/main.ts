/**
 * `bun run bench --only soak [--quick] [--seconds N]`: the soak (bench/soak/soak.ts), its table and summary line.
 * Writes bench/results/soak.json (soak-quick.json with --quick; nothing with --seconds, as other partial runs).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { FULL, QUICK } from "./params.ts";
import { soakLine, soakTable } from "./report.ts";
import { runSoak } from "./soak.ts";

const argv = process.argv;
const quick = argv.includes("--quick");
const seconds = argv.includes("--seconds") ? Number(argv[argv.indexOf("--seconds") + 1]) : undefined;
if (seconds !== undefined && !(seconds >= 10)) throw new Error("--seconds must be a number ≥ 10");
const P = { ...(quick ? QUICK : FULL), ...(seconds ? { seconds } : {}) };
const root = resolve(import.meta.dir, "../..");
const load0 = loadavg();
const result = await runSoak(root, P, (s) => process.stderr.write(`${s}\n`));
if (seconds === undefined) {
  mkdirSync(join(root, "bench/results"), { recursive: true });
  const doc = { date: new Date().toISOString(), command: `bun run bench --only soak${quick ? " --quick" : ""}`, params: P, loadavg_at_start: load0, loadavg_at_end: loadavg(), result };
  writeFileSync(join(root, `bench/results/soak${quick ? "-quick" : ""}.json`), `${JSON.stringify(doc, null, 2)}\n`);
}
console.log(soakTable(result));
console.log(soakLine(result));
process.exit(0);
