/**
 * The peer for the benchmarks: the official `socket.io` server with the same
 * handlers as ours, run either by Node (default `ws` engine) or by Bun with
 * the official `@socket.io/bun-engine`.
 *   node bench/peers/socketio-peer.mjs            (PEER_ENGINE unset: Node + ws)
 *   bun  bench/peers/socketio-peer.mjs            (PEER_ENGINE=bun: Bun + bun-engine)
 * Env: PORT, JWT_SECRET_KEY (HS256, as our server), MONGODB_URL + DATABASE_NAME (chat events).
 * Handlers: `join` {room} (ack), `bcast` {room, ...} → room "bcast"; and, after a JWT check at
 * connect, `send_message` {to_email, message} persisted to MongoDB like our server does
 * (find-or-create conversation, $inc seq and unread, insert message) then `new_message` to both users.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { MongoClient, ObjectId } from "mongodb";
import { Server } from "socket.io";

const port = Number(process.env.PORT ?? 3001);
const secret = process.env.JWT_SECRET_KEY ?? "";
const useBun = process.env.PEER_ENGINE === "bun";

function verifyJwt(token) {
  if (typeof token !== "string") return null;
  const [h, p, s] = token.split(".");
  if (!h || !p || !s) return null;
  const expected = createHmac("sha256", secret).update(`${h}.${p}`).digest();
  const given = Buffer.from(s, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const header = JSON.parse(Buffer.from(h, "base64url").toString());
  const payload = JSON.parse(Buffer.from(p, "base64url").toString());
  if (header.alg !== "HS256" || typeof payload.exp !== "number" || payload.exp * 1000 < Date.now()) return null;
  return typeof payload.sub === "string" ? payload.sub : null;
}

let db = null;
if (process.env.MONGODB_URL) {
  const client = new MongoClient(process.env.MONGODB_URL, { maxPoolSize: 50 });
  await client.connect();
  db = client.db(process.env.DATABASE_NAME ?? "peer_bench");
}

const io = new Server({ serveClient: false, maxHttpBufferSize: 2e6 });

io.use((socket, next) => {
  const token = socket.handshake.auth?.token;
  if (token === undefined) return next(); // broadcast scenario: anonymous
  const email = verifyJwt(token);
  if (!email) return next(Object.assign(new Error("unauthorized"), { data: { code: "UNAUTHORIZED" } }));
  socket.data.email = email;
  next();
});

io.on("connection", (socket) => {
  if (socket.data.email) socket.join(`user:${socket.data.email}`);
  socket.on("join", (data, ack) => {
    socket.join(String(data?.room));
    if (typeof ack === "function") ack();
  });
  socket.on("bcast", (data) => {
    io.to(String(data?.room)).emit("bcast", data);
  });
  socket.on("send_message", async (data, ack) => {
    try {
      const from = socket.data.email;
      const to = String(data?.to_email);
      if (!from || !db || typeof data?.message !== "string") throw new Error("bad request");
      const pair = [from, to].sort();
      const key = pair.join("\n");
      const conversations = db.collection("conversations");
      const now = new Date();
      await conversations.updateOne(
        { direct_key: key },
        { $setOnInsert: { participants: pair, direct_key: key, created_at: now, last_seq: 0, unread: [0, 0] } },
        { upsert: true },
      );
      const conv = await conversations.findOneAndUpdate(
        { direct_key: key },
        { $inc: { last_seq: 1, [`unread.${pair[0] === to ? 0 : 1}`]: 1 }, $set: { last_message: data.message.slice(0, 200), last_message_time: now } },
        { returnDocument: "after" },
      );
      const message = { _id: new ObjectId(), conversation_id: conv._id.toHexString(), seq: conv.last_seq, sender_email: from, message: data.message, timestamp: now };
      await db.collection("chat_messages").insertOne(message);
      const view = { ...message, id: message._id.toHexString(), _id: undefined };
      io.to([`user:${from}`, `user:${to}`]).emit("new_message", view);
      if (typeof ack === "function") ack({ ok: true, message: view });
    } catch (err) {
      if (typeof ack === "function") ack({ ok: false, error: { message: String(err?.message ?? err) } });
    }
  });
});

if (useBun) {
  const { Server: Engine } = await import("@socket.io/bun-engine");
  const engine = new Engine({ path: "/socket.io/", maxHttpBufferSize: 2e6 });
  io.bind(engine);
  const handler = engine.handler();
  globalThis.Bun.serve({ hostname: "127.0.0.1", port, ...handler, idleTimeout: 60 });
} else {
  const http = createServer();
  io.attach(http);
  http.listen(port, "127.0.0.1");
}
console.log(`peer listening on ${port} (${useBun ? "bun + @socket.io/bun-engine" : "node + ws"})`);
