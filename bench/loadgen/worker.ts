/**
 * Load generator process: runs one scenario against one server and prints
 * JSON lines on stdout. Runs in its own process (its own core), speaking raw
 * Engine.IO/Socket.IO frames (see eio-client.ts), never socket.io-client.
 *   bun bench/loadgen/worker.ts '<json config>'
 * Every loop is bounded by a count and a deadline.
 */
import { connectMany, EioClient, percentile } from "./eio-client.ts";

type Config =
  | { scenario: "broadcast"; url: string; clients: number; saturationMs: number; fixedRate: number; fixedMs: number }
  | { scenario: "connections"; url: string; count: number; parallel: number; token?: string }
  | { scenario: "chat"; url: string; users: { email: string; token: string }[]; rate: number; durationMs: number };

const cfg = JSON.parse(process.argv[2] ?? "{}") as Config;
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
const now = () => performance.now();
const nextLine = () =>
  new Promise<string>((resolve) => {
    process.stdin.once("data", (d) => resolve(String(d)));
  });

async function broadcast(c: Extract<Config, { scenario: "broadcast" }>) {
  const room = "bench";
  const receivers = await connectMany(c.clients, 50, async () => {
    const cl = new EioClient();
    await cl.connect(c.url);
    await cl.request("join", { room });
    return cl;
  });
  const sender = new EioClient();
  await sender.connect(c.url);
  let counting = false;
  let delivered = 0;
  let lastSeq0 = -1;
  let wake: (() => void) | null = null;
  const latencies: number[] = [];
  const sampleEvery = Math.max(1, Math.floor(c.clients / 50));
  receivers.forEach((r, i) => {
    const sampled = i % sampleEvery === 0;
    r.on((f) => {
      if (!f.startsWith('42["bcast"')) return;
      if (counting) delivered++;
      if (!sampled) return;
      const t = Number.parseFloat(f.slice(f.indexOf('"t":') + 4));
      if (i === 0) {
        lastSeq0 = Number.parseInt(f.slice(f.indexOf('"s":') + 4), 10);
        wake?.();
      }
      if (counting) latencies.push(now() - t);
    });
  });
  const pad = "x".repeat(64);
  let seq = 0;
  const send = () => sender.emit("bcast", { room, s: seq++, t: now(), p: pad });

  // Saturation: keep a window of broadcasts in flight (measured at receiver 0) for saturationMs.
  const WINDOW = 16;
  counting = true;
  const t0 = now();
  while (now() - t0 < c.saturationMs) {
    while (seq - 1 - lastSeq0 < WINDOW) send();
    await new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, 200);
    });
  }
  const satSeconds = (now() - t0) / 1000;
  counting = false;
  const saturation = delivered / satSeconds;
  await drain(() => lastSeq0 === seq - 1, 5000);

  // Fixed rate: latency percentiles at a rate every server sustains.
  latencies.length = 0;
  counting = true;
  const perTick = Math.max(1, Math.round((c.fixedRate * 10) / 1000));
  const t1 = now();
  while (now() - t1 < c.fixedMs) {
    for (let k = 0; k < perTick; k++) send();
    await Bun.sleep(10);
  }
  await drain(() => lastSeq0 === seq - 1, 5000);
  counting = false;
  latencies.sort((a, b) => a - b);
  out({ saturation_msgs_per_s: saturation, fixed_rate: c.fixedRate, p50_ms: percentile(latencies, 0.5), p99_ms: percentile(latencies, 0.99) });
  for (const r of receivers) r.close();
  sender.close();
}

async function drain(done: () => boolean, ms: number) {
  const end = now() + ms;
  while (!done() && now() < end) await Bun.sleep(5);
  await Bun.sleep(50);
}

async function connections(c: Extract<Config, { scenario: "connections" }>) {
  const t0 = now();
  const clients = await connectMany(c.count, c.parallel, async () => {
    const cl = new EioClient();
    await cl.connect(c.url, c.token ? { token: c.token } : undefined);
    return cl;
  });
  const seconds = (now() - t0) / 1000;
  out({ connected: clients.length, connect_per_s: clients.length / seconds });
  await nextLine(); // the runner reads the server's memory, then tells us to close
  for (const cl of clients) cl.close();
  out({ closed: true });
}

async function chat(c: Extract<Config, { scenario: "chat" }>) {
  const clients = await Promise.all(
    c.users.map(async (u) => {
      const cl = new EioClient();
      await cl.connect(c.url, { token: u.token });
      return cl;
    }),
  );
  const latencies: number[] = [];
  let received = 0;
  clients.forEach((cl, i) => {
    const marker = `"message":"m:${i}:`;
    cl.on((f) => {
      if (!f.startsWith('42["new_message"')) return;
      const at = f.indexOf(marker);
      if (at === -1) return;
      received++;
      latencies.push(now() - Number.parseFloat(f.slice(at + marker.length)));
    });
  });
  let acked = 0;
  let failed = 0;
  const pairs = c.users.length / 2;
  const perTick = (c.rate * 5) / 1000;
  let budget = 0;
  let sent = 0;
  const inflight: Promise<void>[] = [];
  const t0 = now();
  while (now() - t0 < c.durationMs) {
    budget += perTick;
    while (budget >= 1) {
      budget--;
      const pair = sent % pairs;
      const forward = Math.floor(sent / pairs) % 2 === 0;
      const from = forward ? 2 * pair : 2 * pair + 1;
      const to = forward ? 2 * pair + 1 : 2 * pair;
      sent++;
      inflight.push(
        clients[from]!.request("send_message", { to_email: c.users[to]!.email, message: `m:${to}:${now()}` }, 30_000).then(
          (f) => {
            if (f.includes('"ok":true')) acked++;
            else failed++;
          },
          () => {
            failed++;
          },
        ),
      );
    }
    await Bun.sleep(5);
  }
  const offeredSeconds = (now() - t0) / 1000;
  await Promise.all(inflight);
  const allSeconds = (now() - t0) / 1000;
  await drain(() => received >= acked, 5000);
  latencies.sort((a, b) => a - b);
  out({
    offered_per_s: sent / offeredSeconds,
    persisted_per_s: acked / allSeconds,
    acked,
    failed,
    received,
    p50_ms: percentile(latencies, 0.5),
    p99_ms: percentile(latencies, 0.99),
  });
  for (const cl of clients) cl.close();
}

const deadline = setTimeout(() => {
  out({ error: "worker deadline exceeded" });
  process.exit(2);
}, 180_000);
try {
  if (cfg.scenario === "broadcast") await broadcast(cfg);
  else if (cfg.scenario === "connections") await connections(cfg);
  else if (cfg.scenario === "chat") await chat(cfg);
  else throw new Error("unknown scenario");
} catch (err) {
  out({ error: String((err as Error).message ?? err) });
  process.exitCode = 1;
}
clearTimeout(deadline);
process.exit();
