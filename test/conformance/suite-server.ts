/**
 * Test-only server for the official Engine.IO v4 / Socket.IO v5 protocol suites
 * (socketio/socket.io docs/*-test-suite), which expect exactly this behaviour on
 * localhost:3000. Usage: bun test/conformance/suite-server.ts engine|socketio
 * (see README, "Conformance"). Not part of the product.
 */
import { EngineServer } from "../../src/realtime/engine/server.ts";
import { createSocketIOServer } from "../../src/realtime/socketio/server.ts";

const mode = process.argv[2];
const engine = new EngineServer({ path: "/engine.io/", pingInterval: 300, pingTimeout: 200, upgradeTimeout: 10000, maxHttpBufferSize: 1e6, maxPacketsPerPayload: 256, cors: { origins: "*", credentials: false } });
engine.onConnection = (session) => {
  session.listener = { onMessage: (d) => session.send(d), onClose() {}, onUpgrade() {} };
};
const io = createSocketIOServer({ pingInterval: 300, pingTimeout: 200, maxHttpBufferSize: 1e6, connectTimeout: 1000, cors: { origins: "*" } });
io.on("connection", (s) => {
  s.emit("auth", s.handshake.auth);
  s.on("message", (...a: unknown[]) => s.emit("message-back", ...a));
  s.on("message-with-ack", (...a: unknown[]) => { const ack = a.pop() as (...x: unknown[]) => void; ack(...a); });
});
io.of("/custom").on("connection", (s) => s.emit("auth", s.handshake.auth));
const server = Bun.serve({
  hostname: "127.0.0.1", port: 3000, idleTimeout: 30,
  fetch(req, srv) {
    const r = mode === "engine" ? engine.handleRequest(req, srv) : io.handleRequest(req, srv);
    return r === null ? new Response("nf", { status: 404 }) : r;
  },
  websocket: mode === "engine" ? engine.websocket : io.websocket,
});
io.attach(server);
console.log("listening");
