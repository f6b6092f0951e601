/**
 * The markdown table of a benchmark run: medians over the repeats; ratios are
 * medians of the per-round ratios (ours and the peer measured back to back).
 * When the REST scenario measured seed-fastapi (the original Python service),
 * two columns are added: its figures and ours ÷ seed, on the REST rows only.
 */
type Results = Record<string, Record<string, Record<string, number>>>;
interface Ratios {
  ratio(scenario: string, metric: string, a: string, b: string): number;
  chatRates: number[];
}

const PEERS = ["socket.io-node", "socket.io-bun"];
const SEED = "seed-fastapi";
const NAMES = ["ours", ...PEERS];
const f = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n) ? "–" : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const times = (x: number, word = "") => (Number.isFinite(x) ? `${x.toFixed(2)}×${word}` : "–");

export function table(r: Results, q: Ratios, machine: Record<string, unknown>, quick: boolean): string {
  const cell = (scenario: string, key: (n: string) => string, fmt: (row: Record<string, number> | undefined) => string) =>
    NAMES.map((n) => fmt(r[scenario]?.[key(n)])).join(" | ");
  /** ours ÷ peer (more is better), or peer ÷ ours with `less` (less is better). */
  const vs = (scenario: string, metric: string, key: (n: string) => string, less = false) =>
    PEERS.map((p) => (less ? times(q.ratio(scenario, metric, key(p), key("ours")), " less") : times(q.ratio(scenario, metric, key("ours"), key(p))))).join(" | ");
  const id = (n: string) => n;
  const withSeed = Boolean(r.rest?.[SEED]);
  /** The seed columns of a row: blank except on REST rows (cells "" when the run has no seed figures). */
  const seed = (cellText = "", ratioText = "") => (withSeed ? ` ${cellText} | ${ratioText} |` : "");
  const b = r.broadcast ?? {};
  const c = r.connections ?? {};
  const lines = [
    `Benchmark (${quick ? "quick" : "full"}): ${machine.cpus} × ${machine.cpu}, ${machine.memory_gib} GiB, Bun ${machine.bun}, Node ${machine.node}, ` +
      `database ${machine.database}; load average ${JSON.stringify(machine.loadavg_at_start)} at start` +
      (machine.rest_pinning ? `; REST pinned: ${machine.rest_pinning}` : ""),
    "",
    `| scenario | metric | ours | socket.io-node | socket.io-bun | ours vs node | ours vs bun |${seed(SEED, "ours vs seed")}`,
    `|---|---|---:|---:|---:|---:|---:|${seed("---:", "---:")}`,
    `| room broadcast | delivered msgs/s at saturation | ${cell("broadcast", id, (x) => f(x?.saturation_msgs_per_s))} | ${vs("broadcast", "saturation_msgs_per_s", id)} |${seed()}`,
    `| room broadcast | CPU % of a core at saturation: server / load generator | ${cell("broadcast", id, (x) => `${f(x?.server_cpu_pct)} / ${f(x?.loadgen_cpu_pct)}`)} | | |${seed()}`,
    `| room broadcast | p50 / p99 ms at ${f(b.ours?.fixed_rate)} broadcasts/s | ${cell("broadcast", id, (x) => `${f(x?.p50_ms, 1)} / ${f(x?.p99_ms, 1)}`)} | ${vs("broadcast", "p99_ms", id, true)} |${seed()}`,
    `| idle connections (${f(c.ours?.connected)}) | server memory per connection, bytes | ${cell("connections", id, (x) => f(x?.bytes_per_connection))} | ${vs("connections", "bytes_per_connection", id, true)} |${seed()}`,
    `| idle connections | connections/s, JWT checked | ${cell("connections", id, (x) => f(x?.connect_per_s))} | ${vs("connections", "connect_per_s", id)} |${seed()}`,
  ];
  for (const rate of q.chatRates) {
    const k = (n: string) => `${n}@${rate}`;
    if (!NAMES.some((n) => r.chat?.[k(n)])) continue;
    lines.push(`| chat end to end @ ${rate}/s offered | persisted msgs/s (failed) | ${cell("chat", k, (x) => `${f(x?.persisted_per_s)} (${f(x?.failed)})`)} | ${vs("chat", "persisted_per_s", k)} |${seed()}`);
    lines.push(`| chat end to end @ ${rate}/s offered | p50 / p99 ms send → new_message | ${cell("chat", k, (x) => `${f(x?.p50_ms, 1)} / ${f(x?.p99_ms, 1)}`)} | ${vs("chat", "p99_ms", k, true)} |${seed()}`);
  }
  if (r.rest && Object.keys(r.rest).length) {
    const rps = (metric: string, p99: string) => (x: Record<string, number> | undefined) => `${f(x?.[metric])} (${f(x?.[p99])})`;
    const seedRest = (metric: string, p99: string) => seed(rps(metric, p99)(r.rest?.[SEED]), times(q.ratio("rest", metric, "ours", SEED)));
    const where = machine.rest_pinning ? "REST (pinned)" : "REST";
    lines.push(`| ${where} | GET /api/conversations req/s (p99 ms) | ${cell("rest", id, rps("list_rps", "list_p99_ms"))} | ${vs("rest", "list_rps", id)} |${seedRest("list_rps", "list_p99_ms")}`);
    lines.push(`| ${where} | POST /api/messages/send req/s (p99 ms) | ${cell("rest", id, rps("send_rps", "send_p99_ms"))} | ${vs("rest", "send_rps", id)} |${seedRest("send_rps", "send_p99_ms")}`);
    lines.push(`| ${where} | server CPU % of a core: GET / POST | ${cell("rest", id, (x) => `${f(x?.list_server_cpu_pct)} / ${f(x?.send_server_cpu_pct)}`)} | | |${seed(`${f(r.rest?.[SEED]?.list_server_cpu_pct)} / ${f(r.rest?.[SEED]?.send_server_cpu_pct)}`)}`);
  }
  const db = r.db?.driver;
  if (db) {
    lines.push(
      "",
      `Database ceiling (official driver alone, ${f(db.writers)} concurrent writers, no server): insertOne ${f(db.insert_msgs_per_s)} msgs/s; ` +
        `$inc update + insertOne per message ${f(db.update_insert_msgs_per_s)} msgs/s (p99 ${f(db.update_insert_p99_ms, 1)} ms); ` +
        `batches of 20 (one update + insertMany) ${f(db.batch20_msgs_per_s)} msgs/s.`,
    );
  }
  return lines.join("\n");
}
