/**
 * Room broadcast scenario (no database): C receivers join one room, one sender
 * emits `bcast` at doubling rates until the room falls behind, then holds that
 * rate (delivered/s = capacity), then measures latency at a fixed rate.
 * Receivers are RawEioClient: counting a delivery costs a few byte compares.
 */
import { startMeter } from "./cpu.ts";
import { RawEioClient } from "./raw-eio.ts";
import { connectMany, now, percentile, waitUntil } from "./util.ts";

export interface BroadcastConfig {
  scenario: "broadcast";
  url: string;
  serverPid?: number;
  clients: number;
  /** Broadcasts/s of the first step; doubled each step. */
  startRate: number;
  stepMs: number;
  maxLadderMs: number;
  holdMs: number;
  fixedRate: number;
  fixedMs: number;
}

export async function broadcast(c: BroadcastConfig): Promise<Record<string, unknown>> {
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
  try {
    const delivered = () => {
      let n = 0;
      for (const r of receivers) n += r.events;
      return n;
    };
    const head = `42["bcast",{"room":"${room}","p":"${"x".repeat(64)}","t":`;
    let sent = 0;

    /** Offers `rate` broadcasts/s for `ms`, open loop, paced on the clock. */
    const offer = async (rate: number, ms: number) => {
      const d0 = delivered();
      const t0 = now();
      const total = Math.ceil((rate * ms) / 1000);
      let n = 0;
      for (let el = 0; el < ms; el = now() - t0) {
        const due = Math.min(Math.floor((rate * el) / 1000), total);
        for (; n < due; n++) sender.sendText(`${head}${now()}}]`);
        await Bun.sleep(2);
      }
      sent += n;
      const seconds = (now() - t0) / 1000;
      return { rate, offered_per_s: (n * c.clients) / seconds, delivered_per_s: (delivered() - d0) / seconds };
    };
    const drained = (ms: number) => waitUntil(() => delivered() >= sent * c.clients, ms);

    const meter = startMeter(c.serverPid);
    const ladder: Awaited<ReturnType<typeof offer>>[] = [];
    let rate = c.startRate;
    const ladderEnd = now() + c.maxLadderMs;
    for (let step = 0; step < 16 && now() < ladderEnd; step++) {
      const r = await offer(rate, c.stepMs);
      ladder.push(r);
      if (r.delivered_per_s < 0.9 * r.offered_per_s) break;
      rate *= 2;
    }
    const last = ladder.at(-1)!;
    const saturated = last.delivered_per_s < 0.9 * last.offered_per_s;
    if (!saturated) rate /= 2; // the ladder ran out of time: hold the highest rate it reached
    const hold = await offer(rate, c.holdMs);
    const cpu = meter();
    await drained(15_000);

    await Bun.sleep(200);
    recording = true;
    const fixed = await offer(c.fixedRate, c.fixedMs);
    await drained(10_000);
    recording = false;
    latencies.sort((a, b) => a - b);
    return {
      saturation_msgs_per_s: hold.delivered_per_s,
      saturation_rate: rate,
      saturated,
      ladder,
      not_delivered: sent * c.clients - delivered(),
      ...cpu,
      fixed_rate: c.fixedRate,
      fixed_delivered_per_s: fixed.delivered_per_s,
      p50_ms: percentile(latencies, 0.5),
      p99_ms: percentile(latencies, 0.99),
      latency_samples: latencies.length,
    };
  } finally {
    for (const r of receivers) r.close();
    sender.close();
  }
}
