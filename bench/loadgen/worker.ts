/**
 * Load generator process: runs one scenario against one server and prints
 * JSON lines on stdout. Runs in its own process (its own core), speaking raw
 * Engine.IO/Socket.IO frames (see eio-client.ts), never socket.io-client.
 *   bun bench/loadgen/worker.ts '<json config>'
 * Every loop is bounded by a count and a deadline.
 */
import { startMeter } from "./cpu.ts";
import { connectMany, EioClient, percentile } from "./eio-client.ts";
import { RawEioClient } from "./raw-eio.ts";

type Config =
  | {
      scenario: "broadcast";
      url: string;
      serverPid?: number;
      clients: number;
      startRate: number;
      stepMs: number;
      maxLadderMs: number;
      holdMs: number;
      fixedRate: number;
      fixedMs: number;
    }
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
  const sampleEvery = Math.max(1, Math.floor(c.clients / 50));
  const latencies: number[] = [];
  let recording = false;
  const receivers = await connectMany(c.clients, 50, async (i) => {
    const cl = new RawEioClient();
    await cl.connect(c.url);
    await cl.request("join", { room });
    if (i % sampleEvery === 0) {
      cl.onEvent = (t) => {
        if (recording) latencies.push(now() - Number.parseFloat(t.slice(t.indexOf('"t":') + 4)));
      };
    }
    return cl;
  });
  const sender = new RawEioClient();
  await sender.connect(c.url);
  const delivered = () => {
    let n = 0;
    for (const r of receivers) n += r.events;
    return n;
  };
  const head = `42["bcast",{"room":"${room}","p":"${"x".repeat(64)}","t":`;
  let sent = 0;
  const send = () => {
    sender.sendText(`${head}${now()}}]`);
    sent++;
  };

  /** Offers `rate` broadcasts/s for `ms` (open loop, paced on the clock); delivered counts every receiver. */
  async function offer(rate: number, ms: number) {
    const d0 = delivered();
    const t0 = now();
    let n = 0;
    for (let el = 0; el < ms; el = now() - t0) {
      const due = Math.min(Math.floor((rate * el) / 1000), Math.ceil((rate * ms) / 1000));
      while (n < due) {
        send();
        n++;
      }
      await Bun.sleep(2);
    }
    const seconds = (now() - t0) / 1000;
    return { rate, offered_per_s: (n * c.clients) / seconds, delivered_per_s: (delivered() - d0) / seconds };
  }
  const waitDelivered = async (ms: number) => {
    const end = now() + ms;
    while (delivered() < sent * c.clients && now() < end) await Bun.sleep(10);
    return sent * c.clients - delivered();
  };

  // Saturation: the sender doubles its rate every step until the room falls behind (< 90 % delivered),
  // then holds that rate; delivered/s during the hold is the server's capacity.
  const meter = startMeter(c.serverPid);
  const ladder = [];
  let rate = c.startRate;
  const ladderEnd = now() + c.maxLadderMs;
  for (let step = 0; step < 16 && now() < ladderEnd; step++) {
    const r = await offer(rate, c.stepMs);
    ladder.push(r);
    if (r.delivered_per_s < 0.9 * r.offered_per_s) break;
    rate *= 2;
  }
  const hold = await offer(rate, c.holdMs);
  const cpu = meter();
  await waitDelivered(15_000);

  // Latency at a fixed rate every server sustains, measured on every sampleEvery-th receiver.
  await Bun.sleep(200);
  recording = true;
  const fixed = await offer(c.fixedRate, c.fixedMs);
  const notDelivered = await waitDelivered(10_000);
  recording = false;
  latencies.sort((a, b) => a - b);
  out({
    saturation_msgs_per_s: hold.delivered_per_s,
    saturation_rate: rate,
    saturated: ladder.at(-1)!.delivered_per_s < 0.9 * ladder.at(-1)!.offered_per_s,
    ladder,
    not_delivered: notDelivered,
    ...cpu,
    fixed_rate: c.fixedRate,
    fixed_delivered_per_s: fixed.delivered_per_s,
    p50_ms: percentile(latencies, 0.5),
    p99_ms: percentile(latencies, 0.99),
    latency_samples: latencies.length,
  });
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
  const pairs = c.users.length / 2;
  // Warm-up, the same for every server: each pair talks once both ways (creates the conversations).
  await Promise.all(
    clients.map((cl, i) => cl.request("send_message", { to_email: c.users[i % 2 === 0 ? i + 1 : i - 1]!.email, message: "warm-up" }, 30_000)),
  );
  await drain(() => received >= c.users.length, 5000);
  received = 0;
  latencies.length = 0;

  let acked = 0;
  let failed = 0;
  let sent = 0;
  const inflight: Promise<void>[] = [];
  const t0 = now();
  while (now() - t0 < c.durationMs) {
    // Paced by elapsed time, so the offered rate holds even when a tick runs late.
    const due = Math.floor(((now() - t0) * c.rate) / 1000);
    while (sent < due) {
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
