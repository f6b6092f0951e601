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
 * Groups the straightforward way: `POST /api/conversations` {conversation_type: "group", title, members} stores
 * the member list with one unread counter per member; `send_message` {conversation_id, message} increments every
 * other member's counter in one update, stores the message, emits `new_message` to the members' rooms and one
 * `message_notification` per recipient with their count.
 * REST (same JWT): `GET /api/conversations`, `POST /api/conversations`, `POST /api/messages/send`, on plain node:http / Bun.serve.
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
  await Promise.all([
    db.collection("conversations").createIndex({ direct_key: 1 }, { unique: true }),
    db.collection("conversations").createIndex({ participants: 1, last_message_time: -1 }),
    db.collection("chat_messages").createIndex({ conversation_id: 1, seq: -1 }),
  ]);
}

const io = new Server({ serveClient: false, maxHttpBufferSize: 2e6 });

/** A group message: one update (last_seq and every other member's unread), one insert, then the fan-out. */
async function sendGroupMessage(from, data) {
  if (!from || !db || typeof data?.message !== "string" || !/^[0-9a-f]{24}$/.test(String(data.conversation_id))) throw new Error("bad request");
  const conversations = db.collection("conversations");
  const before = await conversations.findOne({ _id: new ObjectId(data.conversation_id), participants: from });
  if (!before) throw new Error("conversation not found");
  const now = new Date();
  const inc = { last_seq: 1 };
  before.participants.forEach((p, i) => p !== from && (inc[`unread.${i}`] = 1));
  const conv = await conversations.findOneAndUpdate(
    { _id: before._id },
    { $inc: inc, $set: { last_message: data.message.slice(0, 200), last_message_time: now } },
    { returnDocument: "after" },
  );
  const message = { _id: new ObjectId(), conversation_id: conv._id.toHexString(), seq: conv.last_seq, sender_email: from, message: data.message, timestamp: now };
  await db.collection("chat_messages").insertOne(message);
  const view = { ...message, id: message._id.toHexString(), _id: undefined };
  io.to(conv.participants.map((p) => `user:${p}`)).emit("new_message", view);
  conv.participants.forEach((p, i) => {
    if (p !== from) io.to(`user:${p}`).emit("message_notification", { conversation_id: view.conversation_id, sender_email: from, message: view, unread_count: conv.unread[i] });
  });
  return view;
}

async function createGroup(from, data) {
  if (!db || typeof data?.title !== "string" || !Array.isArray(data.members)) throw new Error("bad request");
  const participants = [from, ...new Set(data.members.map(String).filter((m) => m !== from))];
  const doc = { participants, title: data.title, created_at: new Date(), last_seq: 0, unread: participants.map(() => 0), direct_key: `group:${new ObjectId().toHexString()}` };
  const r = await db.collection("conversations").insertOne(doc);
  return { id: r.insertedId.toHexString(), conversation_type: "group", title: doc.title, participants };
}

/** Stores a message the straightforward way (three round trips) and delivers it to both users. */
async function sendMessage(from, data) {
  if (data?.conversation_id !== undefined) return sendGroupMessage(from, data);
  const to = String(data?.to_email);
  if (!from || !db || typeof data?.message !== "string" || to === from) throw new Error("bad request");
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
  return view;
}

/** The two REST routes the benchmark measures, on plain HTTP (no framework: the fastest Node baseline). */
async function rest(method, path, authorization, readBody) {
  const email = verifyJwt(String(authorization ?? "").replace(/^Bearer /, ""));
  if (!email) return { status: 401, body: { error: { code: "UNAUTHORIZED", message: "unauthorized" } } };
  if (method === "GET" && path === "/api/conversations") {
    const list = await db.collection("conversations").find({ participants: email }).sort({ last_message_time: -1 }).limit(100).toArray();
    const view = ({ _id, unread, direct_key: _k, ...c }) => ({ ...c, id: _id.toHexString(), unread_count: Object.fromEntries(c.participants.map((p, i) => [p, unread[i]])) });
    return { status: 200, body: list.map(view) };
  }
  if (method === "POST" && path === "/api/conversations") {
    return { status: 201, body: await createGroup(email, JSON.parse(await readBody())) };
  }
  if (method === "POST" && path === "/api/messages/send") {
    const message = await sendMessage(email, JSON.parse(await readBody()));
    return { status: 201, body: { message, duplicate: false } };
  }
  return { status: 404, body: { error: { code: "NOT_FOUND", message: "not found" } } };
}

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
      const view = await sendMessage(socket.data.email, data);
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
  globalThis.Bun.serve({
    hostname: "127.0.0.1",
    port,
    ...handler,
    idleTimeout: 60,
    async fetch(req, server) {
      const url = new URL(req.url);
      if (url.pathname.startsWith("/socket.io/")) return handler.fetch(req, server);
      try {
        const r = await rest(req.method, url.pathname, req.headers.get("authorization"), () => req.text());
        return Response.json(r.body, { status: r.status });
      } catch (err) {
        return Response.json({ error: { message: String(err?.message ?? err) } }, { status: 400 });
      }
    },
  });
} else {
  const http = createServer(async (req, res) => {
    const readBody = async () => {
      let body = "";
      for await (const chunk of req) body += chunk;
      return body;
    };
    let r;
    try {
      r = await rest(req.method, req.url.split("?")[0], req.headers.authorization, readBody);
    } catch (err) {
      r = { status: 400, body: { error: { message: String(err?.message ?? err) } } };
    }
    res.writeHead(r.status, { "content-type": "application/json" }).end(JSON.stringify(r.body));
  });
  io.attach(http);
  http.listen(port, "127.0.0.1");
}
console.log(`peer listening on ${port} (${useBun ? "bun + @socket.io/bun-engine" : "node + ws"})`);
