/**
 * Micro-measure of a broadcast's cost in process (no clients: the room is empty, so this is the JS work per
 * broadcast — encoding, the recovery log, offset markers — not the native fan-out, which `bun run bench` measures).
 * Recovery off vs on, with B broadcasts per event-loop turn (B = 1: every broadcast gets its own marker; B = 100:
 * one marker covers a hundred). ns per broadcast, best of 10 rounds.
 * `bun bench/micro-broadcast.ts`
 */
import { createSocketIOServer } from "../src/realtime/socketio/server.ts";

const N = 100_000;
const payload = { room: "bench", p: "x".repeat(64), t: 0 };

async function measure(recovery: boolean, perTick: number): Promise<number> {
  const io = createSocketIOServer({ connectionStateRecovery: recovery ? { maxBufferBytes: 4 * 1024 * 1024 } : undefined });
  // Attached to a listening server, as deployed: a one-room broadcast takes the topic path (server.publish).
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(null, { status: 404 }), websocket: io.websocket });
  io.attach(server);
  let best = Infinity;
  for (let round = 0; round < 10; round++) {
    const t = performance.now();
    for (let i = 0; i < N; ) {
      for (let j = 0; j < perTick; j++, i++) io.to("bench").emit("bcast", payload);
      // Ends the event-loop turn: markers (scheduled with setImmediate) are sent before this resumes.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    best = Math.min(best, ((performance.now() - t) * 1e6) / N);
  }
  await io.close();
  await server.stop(true);
  return best;
}

for (const perTick of [1, 100]) {
  const off = await measure(false, perTick);
  const on = await measure(true, perTick);
  console.log(`${perTick} per turn: recovery off ${off.toFixed(0)} ns, on ${on.toFixed(0)} ns per broadcast (+${(on - off).toFixed(0)})`);
}
