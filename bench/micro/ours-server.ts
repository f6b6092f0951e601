/**
 * Broadcast micro-benchmark server on our protocol layer. Same handlers as
 * peer-server.mjs: `join` (ack) puts the socket in a room, `go` broadcasts one
 * message with a fixed payload to that room. Prints `ready <port>`.
 * Env: PAYLOAD_BYTES (default 100).
 */
import { createSocketIOServer } from "../../src/realtime/socketio/server.ts";

const payload = { text: "x".repeat(Number(process.env.PAYLOAD_BYTES ?? 100)), from: "bench" };
const io = createSocketIOServer();
io.on("connection", (socket) => {
  socket.on("join", (room: string, ack: () => void) => {
    socket.join(room);
    ack();
  });
  socket.on("go", (room: string, seq: number) => {
    io.to(room).emit("m", seq, payload);
  });
});
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  idleTimeout: 60,
  fetch(req, srv) {
    const r = io.handleRequest(req, srv);
    return r === null ? new Response("not found", { status: 404 }) : r;
  },
  websocket: io.websocket,
});
io.attach(server);
console.log(`ready ${server.port}`);
