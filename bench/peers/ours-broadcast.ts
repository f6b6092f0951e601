/**
 * Our protocol layer with the benchmark peer's broadcast handlers (`join`, `bcast`),
 * so the room-broadcast scenario compares the layers with the same application code.
 * Env: PORT; BENCH_RECOVERY=1 turns connection state recovery on (to measure its cost on broadcasts).
 */
import { createSocketIOServer } from "../../src/realtime/socketio/server.ts";

const io = createSocketIOServer({ maxHttpBufferSize: 2e6, connectionStateRecovery: process.env.BENCH_RECOVERY === "1" ? {} : undefined });
io.on("connection", (socket) => {
  socket.on("join", (data: { room?: unknown }, ack?: () => void) => {
    socket.join(String(data?.room));
    if (typeof ack === "function") ack();
  });
  socket.on("bcast", (data: { room?: unknown }) => {
    io.to(String(data?.room)).emit("bcast", data);
  });
});
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 3002),
  idleTimeout: 60,
  fetch(req, srv) {
    const r = io.handleRequest(req, srv);
    return r === null ? new Response("not found", { status: 404 }) : r;
  },
  websocket: io.websocket,
});
io.attach(server);
console.log(`ours-broadcast listening on ${server.port}`);
