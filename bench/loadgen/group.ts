/**
 * Group fan-out end to end (with persistence): one group of N members, every
 * member online with one socket, `senders` of them sending into the group at a
 * fixed offered rate (open loop, paced on the clock). Latency is send →
 * `new_message` at every other member (the send time travels in the message
 * text), so p99 covers all N deliveries of every message (the sender's own
 * socket gets it too).
 */
import { startMeter } from "./cpu.ts";
import { RawEioClient } from "./raw-eio.ts";
import { connectMany, now, pacedSends, percentile, waitUntil } from "./util.ts";

export interface GroupConfig {
  scenario: "group";
  url: string;
  serverPid?: number;
  /** A JSON file of `{email, token}[]` (too many tokens for a command-line argument). */
  usersFile: string;
  conversationId: string;
  senders: number;
  rate: number;
  durationMs: number;
  ackTimeoutMs: number;
}

const MARK = '"message":"g:';

export async function group(c: GroupConfig): Promise<Record<string, unknown>> {
  const users = (await Bun.file(c.usersFile).json()) as { email: string; token: string }[];
  const clients = await connectMany(users.length, 50, async (i) => {
    const cl = new RawEioClient();
    await cl.connect(c.url, { token: users[i]!.token });
    return cl;
  });
  try {
    const latencies: number[] = [];
    let received = 0;
    let notifications = 0;
    for (const cl of clients) {
      cl.onEvent = (f) => {
        if (f.startsWith('42["message_notification"')) return void notifications++;
        if (!f.startsWith('42["new_message"')) return;
        const at = f.indexOf(MARK);
        if (at === -1) return;
        received++;
        latencies.push(now() - Number.parseFloat(f.slice(at + MARK.length)));
      };
    }
    // Warm-up, the same for every server: one message reaches everyone. On ours it also waits out the presence
    // announcements of 1,000 members coming online at once (each to its 999 co-members, a user write each),
    // which the peer does not have: measured here, they took about 12 s on this machine.
    await clients[0]!.request("send_message", { conversation_id: c.conversationId, message: "warm-up" }, 120_000);
    await waitUntil(() => notifications >= clients.length - 1, 10_000);
    latencies.length = 0;
    received = 0;
    notifications = 0;

    const meter = startMeter(c.serverPid);
    const { sent, acked, failed } = await pacedSends(c.rate, c.durationMs, (i) =>
      clients[i % c.senders]!.request("send_message", { conversation_id: c.conversationId, message: `g:${now()}` }, c.ackTimeoutMs),
    );
    const cpu = meter();
    // Every member gets each message (the sender's own sockets too, as in a chat client).
    const expected = acked * clients.length;
    await waitUntil(() => received >= expected, 15_000);
    latencies.sort((a, b) => a - b);
    return {
      members: clients.length,
      offered_per_s: (sent * 1000) / c.durationMs,
      sent,
      acked,
      failed,
      deliveries_expected: expected,
      deliveries: received,
      notifications,
      p50_ms: percentile(latencies, 0.5),
      p99_ms: percentile(latencies, 0.99),
      max_ms: latencies.at(-1) ?? Number.NaN,
      ...cpu,
    };
  } finally {
    for (const cl of clients) cl.close();
  }
}
