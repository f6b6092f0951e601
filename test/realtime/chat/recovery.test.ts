/**
 * Connection state recovery in the chat, with the unmodified official client: a message sent while a
 * client's transport is down arrives after it reconnects, the socket is recovered, and the gateway's
 * connect logic does not run twice.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { io, type Socket } from "socket.io-client";
import { api, login, type TestUser } from "../../helpers/api.ts";
import { startTestServer, type TestServer } from "../../helpers/server.ts";
import { collect, waitFor, waitUntil } from "../../helpers/wait.ts";

let s: TestServer;
let short: TestServer;
beforeAll(async () => {
  s = await startTestServer("recovery");
  short = await startTestServer("recoveryshort", { RECOVERY_WINDOW_MS: "100", PRESENCE_GRACE_MS: "50" });
});
const open: Socket[] = [];
afterEach(() => {
  for (const c of open.splice(0)) c.disconnect();
});
afterAll(async () => {
  await s.stopAndDrop();
  await short.stopAndDrop();
});

let n = 0;
async function pair(server: TestServer): Promise<[TestUser, TestUser]> {
  n++;
  const users = await Promise.all([login(server, `ra${n}@example.com`, "A"), login(server, `rb${n}@example.com`, "B")]);
  await api(server, "POST", "/api/conversations/start", { token: users[0].token, body: { to_email: users[1].email } });
  return users;
}

/** The official client with its default options (reconnection on), on the given transport. */
async function client(server: TestServer, token: string, transport: "websocket" | "polling"): Promise<Socket> {
  const c = io(server.url, { auth: { token }, transports: [transport], forceNew: true });
  open.push(c);
  await waitFor(c, "connect");
  return c;
}

/** Drops the client's transport and resolves once the server has seen the socket go. */
async function dropTransport(server: TestServer, c: Socket): Promise<void> {
  const id = c.id!;
  c.io.engine.close();
  await waitUntil(() => !server.io.sockets.sockets.has(id), 3000, "the server to see the drop");
}

describe.each(["websocket", "polling"] as const)("over %s", (transport) => {
  test("a message sent while the transport is down arrives after reconnect; socket.recovered === true", async () => {
    const [a, b] = await pair(s);
    const bSock = await client(s, b.token, "websocket");
    const online = waitFor(bSock, "user_online");
    const aSock = await client(s, a.token, transport);
    await online;
    const id = aSock.id;
    const received = collect(aSock, "new_message");
    const bOfflines = collect(bSock, "user_offline");
    const bOnlines = collect(bSock, "user_online");

    await dropTransport(s, aSock);
    const sent = await bSock.timeout(5000).emitWithAck("send_message", { to_email: a.email, message: "while you were away" });
    expect(sent.ok).toBe(true);

    await waitFor(aSock, "connect", 5000, "reconnect");
    expect(aSock.recovered).toBe(true);
    expect(aSock.id).toBe(id);
    await waitUntil(() => received.length === 1, 3000, "the missed message");
    expect(received[0].message).toBe("while you were away");
    expect(received[0].id).toBe(sent.message.id);

    // Live delivery goes on, exactly once (the user room was not joined twice).
    const live = await bSock.timeout(5000).emitWithAck("send_message", { to_email: a.email, message: "live again" });
    await waitUntil(() => received.length === 2, 3000, "the live message");
    expect(received[1].id).toBe(live.message.id);
    expect(bOfflines).toEqual([]);
    expect(bOnlines).toEqual([]);

    // Presence was counted once: an explicit disconnect now takes the user offline at once.
    const offline = waitFor(bSock, "user_offline");
    aSock.disconnect();
    expect((await offline).email).toBe(a.email);
    expect(received.length).toBe(2);
  });
});

test("outside the window: recovered === false, and the connection handler runs (user room joined again)", async () => {
  const [a, b] = await pair(short);
  const aSock = await client(short, a.token, "websocket");
  const bSock = await client(short, b.token, "websocket");
  const id = aSock.id;
  await dropTransport(short, aSock);
  // The client comes back after its reconnection delay (about a second), well past the 100 ms window.
  await waitFor(aSock, "connect", 5000, "reconnect");
  expect(aSock.recovered).toBe(false);
  expect(aSock.id).not.toBe(id);
  const received = waitFor(aSock, "new_message");
  await bSock.timeout(5000).emitWithAck("send_message", { to_email: a.email, message: "hello again" });
  expect((await received).message).toBe("hello again");
});

test("a recovered socket keeps the conversation rooms it had joined", async () => {
  const [a, b] = await pair(s);
  const conv = await api(s, "POST", "/api/conversations/start", { token: a.token, body: { to_email: b.email } }); // exists: 200
  const aSock = await client(s, a.token, "websocket");
  expect((await aSock.timeout(5000).emitWithAck("join_conversation", { conversation_id: conv.body.id })).ok).toBe(true);
  await dropTransport(s, aSock);
  await waitFor(aSock, "connect", 5000, "reconnect");
  expect(aSock.recovered).toBe(true);
  const room = `conversation:${conv.body.id}`;
  expect(s.io.sockets.fetchSocketIds(room)).toEqual([aSock.id!]);
});
