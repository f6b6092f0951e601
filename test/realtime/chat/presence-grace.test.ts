/**
 * PRESENCE_GRACE_MS: a lost transport keeps its user online for the grace period (a short drop is invisible
 * to contacts), while the client's own DISCONNECT ends presence at once.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { io, type Socket } from "socket.io-client";
import { loadConfig } from "../../../src/config.ts";
import { api, login, type TestUser } from "../../helpers/api.ts";
import { connectAs, closeAllClients, request } from "../../helpers/clients.ts";
import { startTestServer, type TestServer } from "../../helpers/server.ts";
import { collect, waitFor, waitUntil } from "../../helpers/wait.ts";

const GRACE = 400;
let s: TestServer;
let noRecovery: TestServer;
beforeAll(async () => {
  s = await startTestServer("grace", { PRESENCE_GRACE_MS: String(GRACE) });
  noRecovery = await startTestServer("gracenorec", { RECOVERY_WINDOW_MS: "0", PRESENCE_GRACE_MS: "5000" });
});
const extra: Socket[] = [];
afterEach(() => {
  closeAllClients();
  for (const c of extra.splice(0)) c.disconnect();
});
afterAll(async () => {
  await s.stopAndDrop();
  await noRecovery.stopAndDrop();
});

let n = 0;
async function contacts(server: TestServer): Promise<[TestUser, TestUser]> {
  n++;
  const [a, b] = await Promise.all([login(server, `ga${n}@example.com`, "A"), login(server, `gb${n}@example.com`, "B")]);
  await api(server, "POST", "/api/conversations/start", { token: a.token, body: { to_email: b.email } });
  return [a, b];
}

test("a transport lost for good takes the user offline only after the grace period", async () => {
  const [a, b] = await contacts(s);
  const bSock = await connectAs(s, b.token, "websocket");
  const aSock = await connectAs(s, a.token, "websocket"); // reconnection off: it never comes back
  const offline = waitFor(bSock, "user_offline", 5000);
  const lostAt = Date.now();
  aSock.io.engine.close();
  expect((await offline).email).toBe(a.email);
  expect(Date.now() - lostAt).toBeGreaterThanOrEqual(GRACE - 20);
});

test("the client's DISCONNECT ends presence at once", async () => {
  const [a, b] = await contacts(noRecovery);
  const bSock = await connectAs(noRecovery, b.token, "websocket");
  const aSock = await connectAs(noRecovery, a.token, "default");
  const offline = waitFor(bSock, "user_offline", 3000);
  const at = Date.now();
  aSock.disconnect();
  expect((await offline).email).toBe(a.email);
  expect(Date.now() - at).toBeLessThan(2000); // far below the 5 s grace
});

test("without recovery, a new socket of the user within the grace period takes the lost one's place", async () => {
  const [a, b] = await contacts(noRecovery);
  const bSock = await connectAs(noRecovery, b.token, "websocket");
  const online = waitFor(bSock, "user_online");
  const aSock = io(noRecovery.url, { auth: { token: a.token }, transports: ["websocket"], forceNew: true, reconnectionDelay: 50 });
  extra.push(aSock);
  await waitFor(aSock, "connect");
  await online;
  const onlines = collect(bSock, "user_online");
  const offlines = collect(bSock, "user_offline");
  const id = aSock.id!;
  aSock.io.engine.close();
  await waitFor(aSock, "connect", 5000, "reconnect");
  expect(aSock.recovered).toBeFalsy(); // the client leaves it undefined when the server sends no pid
  expect(aSock.id).not.toBe(id);
  await waitUntil(() => !noRecovery.io.sockets.sockets.has(id), 3000, "old socket gone");
  expect((await request(bSock, "get_online_users")).users).toContain(a.email);
  expect(onlines).toEqual([]);
  expect(offlines).toEqual([]);
  // Counted once: the explicit disconnect announces the user offline straight away.
  const offline = waitFor(bSock, "user_offline", 3000);
  aSock.disconnect();
  expect((await offline).email).toBe(a.email);
});

test("PRESENCE_GRACE_MS may not exceed RECOVERY_WINDOW_MS; the defaults are 5 s and 120 s", () => {
  expect(() => loadConfig({ RECOVERY_WINDOW_MS: "1000", PRESENCE_GRACE_MS: "2000" })).toThrow(/PRESENCE_GRACE_MS/);
  const c = loadConfig({});
  expect([c.PRESENCE_GRACE_MS, c.RECOVERY_WINDOW_MS]).toEqual([5_000, 120_000]);
});
