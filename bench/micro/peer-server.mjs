/**
 * Broadcast micro-benchmark server on the official `socket.io` package, with the
 * same handlers as ours-server.ts. `node peer-server.mjs`: Node's http + the
 * default `ws` engine (the reference). `bun peer-server.mjs`: Bun.serve with the
 * official @socket.io/bun-engine. Prints `ready <port>`.
 * Env: PAYLOAD_BYTES (default 100).
 */
import { Server } from "socket.io";

const payload = { text: "x".repeat(Number(process.env.PAYLOAD_BYTES ?? 100)), from: "bench" };
const io = new Server({ serveClient: false });
io.on("connection", (socket) => {
  socket.on("join", (room, ack) => {
    socket.join(room);
    ack();
  });
  socket.on("go", (room, seq) => {
    io.to(room).emit("m", seq, payload);
  });
});

if (typeof Bun !== "undefined") {
  const { Server: Engine } = await import("@socket.io/bun-engine");
  const engine = new Engine({ path: "/socket.io/" });
  io.bind(engine);
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 60, ...engine.handler() });
  console.log(`ready ${server.port}`);
} else {
  const { createServer } = await import("node:http");
  const http = createServer();
  io.attach(http);
  http.listen(0, "127.0.0.1", () => console.log(`ready ${http.address().port}`));
}
