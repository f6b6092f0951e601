/** The soak's markdown table and its one-line summary. */
import type { SoakResult } from "./verify.ts";

const share = (n: number, d: number) => (d ? `${((100 * n) / d).toFixed(1)} %` : "n/a");
const ms = (x: { p50: number; p99: number; n: number }) => (x.n ? `${Math.round(x.p50)} / ${Math.round(x.p99)} ms (n = ${x.n})` : "n/a");
const map = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k} ${v}`).join(", ") || "none";

export function soakTable(r: SoakResult): string {
  const rows: [string, string, string][] = [
    ["run", `${r.seconds} s, ${r.users} users (${r.websocketOnly} websocket-only), server down ${r.serverDownMs} ms once, database restarts ${r.dbRestarts}`, ""],
    ["messages acked by senders", String(r.acked), ""],
    ["present at every recipient", String(r.presentAtRecipient), ""],
    ["missing (acked, not at the recipient)", String(r.missing), "0"],
    ["… not delivered live, by recovery or by a reconnect's sync (only the final sync had them)", String(r.missingBeforeFinalSync), "0"],
    ["acked but unstored (REST history)", String(r.unstored), "0"],
    ["duplicates after dedupe by id (same sender and client_id, two ids)", String(r.duplicatesAfterDedupe), "0"],
    ["stored twice (same sender and client_id in the history)", String(r.storedTwice), "0"],
    ["history seqs out of place (a gap or a repeat in 1, 2, 3, …)", String(r.seqGaps ?? "n/a"), "0"],
    ["raw duplicates before dedupe (same id as `new_message` twice)", String(r.rawDuplicates), ""],
    ["sync results already kept (a sync from an older cursor, and its 5 s look-back; deduped)", String(r.syncOverlap), ""],
    ["recovered reconnects / all reconnects", `${r.recovered} / ${r.reconnects} (${share(r.recovered, r.reconnects)})`, ""],
    ["recovered short drops (< 5 s) / short drops, all", `${r.shortRecovered} / ${r.shortDrops} (${share(r.shortRecovered, r.shortDrops)})`, ""],
    ["… without the server restart's", `${r.shortRecoveredNoRestart} / ${r.shortDropsNoRestart} (${share(r.shortRecoveredNoRestart, r.shortDropsNoRestart)})`, "≥ 99 %"],
    ["short drops not recovered (outside the restart)", r.unrecoveredShort.join("; ") || "none", ""],
    ["reconnects after the server restart: recovered / all", `${r.serverRestartRecovered} / ${r.serverRestartReconnects}`, ""],
    ["reconnect → caught up, recovered (connect event), p50 / p99", ms(r.catchUpRecoveredMs), ""],
    ["reconnect → caught up, not recovered (last sync page), p50 / p99", ms(r.catchUpSyncMs), ""],
    ["drop → caught up, all, p50 / p99", ms(r.dropToCaughtUpMs), ""],
    ["reconnects never caught up / stuck clients / `io server disconnect`", `${r.notCaughtUp} / ${r.stuckClients} / ${r.ioServerDisconnects}`, "0 / 0 / 0"],
    ["send attempts / failed attempts by cause", `${r.sendAttempts} / ${map(r.sendErrors)}`, ""],
    ["failed sync calls by cause", map(r.syncErrors), ""],
    ["server error log lines", `${r.serverErrorLines}${r.serverErrorSamples.length ? `: ${r.serverErrorSamples.join("; ")}` : ""}`, ""],
  ];
  return ["| | soak | target |", "|---|---|---|", ...rows.map((c) => `| ${c.join(" | ")} |`)].join("\n");
}

export function soakLine(r: SoakResult): string {
  return `soak: missing ${r.missing}, duplicates ${r.duplicatesAfterDedupe}, unstored ${r.unstored}, recovered short drops ${share(r.shortRecoveredNoRestart, r.shortDropsNoRestart)}`;
}
