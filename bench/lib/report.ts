/** The markdown table of a benchmark run. */
type Results = Record<string, Record<string, Record<string, number>>>;

const f = (n: number | undefined, digits = 0) => (n === undefined || Number.isNaN(n) ? "–" : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const x = (a?: number, b?: number) => (a && b ? `${(a / b).toFixed(2)}×` : "–");

export function table(r: Results, machine: Record<string, unknown>, quick: boolean): string {
  const b = r.broadcast!;
  const c = r.connections!;
  const names = ["ours", "socket.io-node", "socket.io-bun"];
  const lines = [
    `Benchmark (${quick ? "quick" : "full"}) on ${machine.cpus} × ${machine.cpu}, Bun ${machine.bun}, Node ${machine.node}, database: ${machine.database}`,
    "",
    "| scenario | metric | ours | socket.io-node | socket.io-bun | ours ÷ node | ours ÷ bun |",
    "|---|---|---:|---:|---:|---:|---:|",
    `| room broadcast | delivered msgs/s (saturation) | ${names.map((n) => f(b[n]?.delivered_per_s)).join(" | ")} | ${x(b.ours?.delivered_per_s, b["socket.io-node"]?.delivered_per_s)} | ${x(b.ours?.delivered_per_s, b["socket.io-bun"]?.delivered_per_s)} |`,
    `| room broadcast | p50 / p99 ms at fixed rate | ${names.map((n) => `${f(b[n]?.p50_ms, 1)} / ${f(b[n]?.p99_ms, 1)}`).join(" | ")} | | |`,
    `| idle connections | bytes per connection | ${names.map((n) => f(c[n]?.bytes_per_connection)).join(" | ")} | | |`,
    `| idle connections | connections/s (with JWT check) | ${names.map((n) => f(c[n]?.connect_per_s)).join(" | ")} | ${x(c.ours?.connect_per_s, c["socket.io-node"]?.connect_per_s)} | ${x(c.ours?.connect_per_s, c["socket.io-bun"]?.connect_per_s)} |`,
  ];
  const rates = [...new Set(Object.keys(r.chat!).map((k) => k.split("@")[1]))];
  for (const rate of rates) {
    const row = (n: string) => r.chat![`${n}@${rate}`];
    lines.push(`| chat end to end @ ${rate}/s offered | persisted msgs/s | ${names.map((n) => f(row(n)?.persisted_per_s)).join(" | ")} | ${x(row("ours")?.persisted_per_s, row("socket.io-node")?.persisted_per_s)} | ${x(row("ours")?.persisted_per_s, row("socket.io-bun")?.persisted_per_s)} |`);
    lines.push(`| chat end to end @ ${rate}/s offered | p50 / p99 ms send → new_message | ${names.map((n) => `${f(row(n)?.p50_ms, 1)} / ${f(row(n)?.p99_ms, 1)}`).join(" | ")} | | |`);
  }
  const rest = r.rest!.ours;
  if (rest) {
    lines.push(`| REST (ours only) | GET /api/conversations req/s (p99 ms) | ${f(rest.list_rps)} (${f(rest.list_p99_ms)}) | – | – | | |`);
    lines.push(`| REST (ours only) | POST /api/messages/send req/s (p99 ms) | ${f(rest.send_rps)} (${f(rest.send_p99_ms)}) | – | – | | |`);
  }
  return lines.join("\n");
}
