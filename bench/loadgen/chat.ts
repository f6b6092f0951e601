/**
 * Chat end to end (with persistence): P pairs of users exchange `send_message`
 * at a fixed offered rate (open loop, paced on the clock). Latency is send →
 * `new_message` at the recipient (the send time travels in the message text);
 * persisted/s counts positive acks (`{ok: true}` comes after the write).
 */
import { startMeter } from "./cpu.ts";
import { RawEioClient } from "./raw-eio.ts";
import { connectMany, now, pacedSends, percentile, waitUntil } from "./util.ts";

export interface ChatConfig {
  scenario: "chat";
  url: string;
  serverPid?: number;
  users: { email: string; token: string }[];
  rate: number;
  durationMs: number;
  /** A send not acknowledged within this counts as failed (bounds the run on an overloaded server). */
  ackTimeoutMs: number;
}

export async function chat(c: ChatConfig): Promise<Record<string, unknown>> {
  const clients = await connectMany(c.users.length, 20, async (i) => {
    const cl = new RawEioClient();
    await cl.connect(c.url, { token: c.users[i]!.token });
    return cl;
  });
  try {
    const latencies: number[] = [];
    let received = 0;
    clients.forEach((cl, i) => {
      const marker = `"message":"m:${i}:`;
      cl.onEvent = (f) => {
        if (!f.startsWith('42["new_message"')) return;
        const at = f.indexOf(marker);
        if (at === -1) return;
        received++;
        latencies.push(now() - Number.parseFloat(f.slice(at + marker.length)));
      };
    });
    const pairs = c.users.length / 2;
    const peer = (i: number) => c.users[i % 2 === 0 ? i + 1 : i - 1]!.email;
    // Warm-up, the same for every server: each pair talks once both ways (creates the conversations).
    await Promise.all(clients.map((cl, i) => cl.request("send_message", { to_email: peer(i), message: "warm-up" }, c.ackTimeoutMs)));
    await waitUntil(() => received >= c.users.length, 5000);
    received = 0;
    latencies.length = 0;

    const meter = startMeter(c.serverPid);
    const { sent, acked, failed, offeredSeconds, allSeconds } = await pacedSends(c.rate, c.durationMs, (i) => {
      const pair = i % pairs;
      const forward = Math.floor(i / pairs) % 2 === 0;
      const from = forward ? 2 * pair : 2 * pair + 1;
      const to = forward ? 2 * pair + 1 : 2 * pair;
      return clients[from]!.request("send_message", { to_email: c.users[to]!.email, message: `m:${to}:${now()}` }, c.ackTimeoutMs);
    });
    const cpu = meter();
    await waitUntil(() => received >= acked, 5000);
    latencies.sort((a, b) => a - b);
    return {
      offered_per_s: sent / offeredSeconds,
      persisted_per_s: acked / allSeconds,
      sent,
      acked,
      failed,
      received,
      p50_ms: percentile(latencies, 0.5),
      p99_ms: percentile(latencies, 0.99),
      max_ms: latencies.at(-1) ?? Number.NaN,
      ...cpu,
    };
  } finally {
    for (const cl of clients) cl.close();
  }
}
