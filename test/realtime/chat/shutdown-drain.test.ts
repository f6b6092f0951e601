/**
 * Graceful stop: the server stops right after clients disconnect (or while
 * they are still connected, with writes in flight) and must finish every
 * presence update and message write before closing the database, so no error
 * is logged; connected clients are told to reconnect (elsewhere), and a
 * message acked before the stop is stored.
 */
import { afterAll, expect, test } from "bun:test";
import { MongoClient } from "mongodb";
import { io } from "socket.io-client";
import { login, type TestUser } from "../../helpers/api.ts";
import { closeAllClients, connectAs } from "../../helpers/clients.ts";
import { captureLog } from "../../helpers/log-capture.ts";
import { startTestServer, testMongoUrl, type TestServer } from "../../helpers/server.ts";
import { waitFor } from "../../helpers/wait.ts";

const mongo = new MongoClient(testMongoUrl());
const dbNames: string[] = [];
afterAll(async () => {
  closeAllClients();
  for (const name of dbNames) await mongo.db(name).dropDatabase().catch(() => {});
  await mongo.close();
});

async function start(label: string) {
  const cap = captureLog();
  const s: TestServer = await startTestServer(label, {}, undefined, cap.log);
  dbNames.push(s.cfg.DATABASE_NAME);
  const users: TestUser[] = [];
  for (let i = 0; i < 8; i++) users.push(await login(s, `u${i}@example.com`, `U${i}`));
  // Lines from the start-up (such as the AUTH_MODE=open warning) are not the stop's problems.
  const fromStart = cap.lines.length;
  const problems = () => cap.lines.slice(fromStart).filter((l) => l.level === "error" || l.level === "warn");
  return { s, cap, users, problems, db: mongo.db(s.cfg.DATABASE_NAME) };
}

test("stop right after clients disconnect: every presence update finishes, no error lines, the acked message is stored", async () => {
  const { s, users, problems, db } = await start("drainafter");
  const sockets = await Promise.all(users.map((u, i) => connectAs(s, u.token, i % 2 ? "websocket" : "default")));
  // Conversations, so going offline is announced to contacts (more database work per disconnect).
  const acks = await Promise.all(
    sockets.map((sock, i) =>
      sock.timeout(5000).emitWithAck("send_message", { to_email: users[(i + 1) % users.length]!.email, message: `hi ${i}`, client_id: `m-${i}` }),
    ),
  );
  expect(acks.every((a) => a.ok)).toBe(true);
  for (const sock of sockets) sock.disconnect();
  await s.stop();

  expect(problems()).toEqual([]);
  expect(await db.collection("chat_messages").countDocuments({ client_id: { $in: acks.map((_, i) => `m-${i}`) } })).toBe(users.length);
  // Every user's last disconnect was written before the database client closed.
  expect(await db.collection("users").countDocuments({ is_online: true })).toBe(0);
});

test("stop with clients connected and sends in flight: clients are told to reconnect, writes finish, no error lines", async () => {
  const { s, users, problems, db } = await start("drainduring");
  const [a, b] = users as [TestUser, TestUser];
  // A client that would reconnect on its own: it must see a transport close, not a server-side disconnect.
  const client = io(s.url, { auth: { token: a.token }, transports: ["websocket"], reconnectionDelay: 60_000, forceNew: true });
  await waitFor(client, "connect");
  const ack = await client.timeout(5000).emitWithAck("send_message", { to_email: b.email, message: "before the stop", client_id: "acked" });
  expect(ack.ok).toBe(true);
  for (let i = 0; i < 20; i++) client.emit("send_message", { to_email: b.email, message: `in flight ${i}`, client_id: `f-${i}` });
  const closed = waitFor<string>(client, "disconnect");
  await s.stop();
  expect(await closed).toBe("transport close"); // socket.io-client reconnects after this reason (not after "io server disconnect")
  expect(client.io.opts.reconnection).not.toBe(false);
  client.close();

  expect(problems()).toEqual([]);
  expect(await db.collection("chat_messages").countDocuments({ client_id: "acked" })).toBe(1);
  expect(await db.collection("users").countDocuments({ is_online: true })).toBe(0);
});
