/**
 * The Redis client's CPU cost per pub/sub message (the bus's hot path), with Bun's built-in RedisClient:
 * N PUBLISHes of a typical chat broadcast (~300 bytes) and their reception on a subscribed connection, in one
 * process, CPU time (user + system) divided by N. Needs `redis-server` on PATH (scripts/prepare-redis.sh).
 *   bun bench/cluster/redis-client.ts [N]
 */
import { RedisClient } from "bun";
import { findFreePort, waitForPort } from "../../src/embedded-db/free-port.ts";

const N = Number(process.argv[2] ?? 100_000);
const port = await findFreePort();
const server = Bun.spawn(["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdout: "ignore" });
await waitForPort("127.0.0.1", port, 10_000);
const url = `redis://127.0.0.1:${port}`;
const pub = new RedisClient(url);
const sub = new RedisClient(url);
await Promise.all([pub.connect(), sub.connect()]);
const payload = `["n1","/",["user:a@example.com","user:b@example.com"],[],0]\n2["new_message",${JSON.stringify({ id: "x".repeat(24), conversation_id: "y".repeat(24), sender_email: "a@example.com", message: "hello ".repeat(20) })}]`;

let received = 0;
let done: () => void = () => {};
const all = new Promise<void>((r) => (done = r));
await sub.subscribe("bench", () => {
  if (++received === N) done();
});
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < N; i += 1000) {
  const batch: Promise<unknown>[] = [];
  for (let j = i; j < Math.min(N, i + 1000); j++) batch.push(pub.send("PUBLISH", ["bench", payload]));
  await Promise.all(batch);
}
await all;
const cpu = process.cpuUsage(cpu0);
const ms = performance.now() - t0;
const us = (cpu.user + cpu.system) / N;
console.log(JSON.stringify({ client: "bun RedisClient", messages: N, bytes: payload.length, cpu_us_per_message: +us.toFixed(2), wall_ms: Math.round(ms), msgs_per_s: Math.round(N / (ms / 1000)) }));
pub.close();
sub.close();
server.kill();
