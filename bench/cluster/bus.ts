/**
 * The cluster bus's own cost per broadcast, without servers or database: two Redis buses in one process (node A
 * publishes a typical `new_message` broadcast to two user rooms, node B has members in one of them), N broadcasts,
 * CPU time of this process (both nodes' encoding, the Lua-numbered publish, reception, decoding) per broadcast.
 *   bun bench/cluster/bus.ts <redis-url> [N]      (bench/cluster/run.ts calls busCost())
 */
import { createRedisBus } from "../../src/cluster/redis-bus.ts";
import { connectRedis } from "../../src/cluster/redis-link.ts";
import { createLogger } from "../../src/logger.ts";

export async function busCost(url: string, n: number): Promise<{ broadcasts: number; cpu_us_per_broadcast: number; wall_ms: number }> {
  const log = createLogger("error");
  const prefix = `busbench${Date.now()}:`;
  const [la, lb] = [await connectRedis(url, prefix, log), await connectRedis(url, prefix, log)];
  const a = createRedisBus(la, "A", log);
  const b = createRedisBus(lb, "B", log);
  let received = 0;
  let done: () => void = () => {};
  const all = new Promise<void>((r) => (done = r));
  b.onRemote(() => {
    if (++received === n) done();
  });
  await b.ensureSubscribed("/", ["user:b@example.com"]);
  const frame = `2["new_message",${JSON.stringify({ id: "6650f1c2a1b2c3d4e5f60718", conversation_id: "6650f1c2a1b2c3d4e5f60719", sender_email: "a@example.com", sender_name: "A", message: "hello there, how are you doing today?", message_type: "text", timestamp: new Date().toISOString(), seq: 1 })}]`;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    a.publish({ nsp: "/", frames: [frame], rooms: ["user:a@example.com", "user:b@example.com"], except: [], epoch: "abc", seq: i });
    if (i % 1000 === 999) await Bun.sleep(0);
  }
  await all;
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  la.close();
  lb.close();
  return { broadcasts: n, cpu_us_per_broadcast: +((cpu.user + cpu.system) / n).toFixed(2), wall_ms: Math.round(wall) };
}

if (import.meta.main) console.log(JSON.stringify(await busCost(process.argv[2] ?? "redis://127.0.0.1:6379", Number(process.argv[3] ?? 50_000))));
