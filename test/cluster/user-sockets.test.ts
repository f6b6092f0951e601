/**
 * Cluster mode, in one test process (two servers with the same REDIS_URL and database): the ports other features
 * use — `userSockets.disconnectUserEverywhere(email)` closes the user's sockets on every node, and
 * `presence.isConnectedAnywhere(email)` answers for sockets on any node.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { login } from "../helpers/api.ts";
import { closeAllClients, connectAs } from "../helpers/clients.ts";
import { startTestServer, uniqueDbName, type TestServer } from "../helpers/server.ts";
import { waitFor, waitUntil } from "../helpers/wait.ts";
import { startRedis, stopAll } from "./harness.ts";

let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  const redis = await startRedis();
  const env = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: `us${Date.now().toString(36)}:`, DATABASE_NAME: uniqueDbName("usersockets") };
  a = await startTestServer("usersockets", env);
  b = await startTestServer("usersockets", env);
}, 60_000);

afterAll(async () => {
  closeAllClients();
  await a.stopAndDrop();
  await b.stop();
  await stopAll();
});

test("isConnectedAnywhere sees a socket on the other node; disconnectUserEverywhere closes the user's sockets on every node", async () => {
  const user = await login(a, "everywhere@u.test");
  expect(await a.services.presence.isConnectedAnywhere(user.email)).toBe(false);
  const onB = await connectAs(b, user.token, "websocket");
  await waitUntil(() => a.services.presence.isConnectedAnywhere(user.email), 5000, "node A to see the socket on node B");
  const onA = await connectAs(a, user.token, "websocket");
  const errorOnB = waitFor(onB, "error", 5000, "error on node B's socket");
  const goneB = waitFor(onB, "disconnect", 5000, "node B's socket disconnected");
  const goneA = waitFor(onA, "disconnect", 5000, "node A's socket disconnected");
  await a.userSockets.disconnectUserEverywhere(user.email, "ACCOUNT_REMOVED");
  expect((await errorOnB).code).toBe("ACCOUNT_REMOVED");
  expect(await goneB).toBe("io server disconnect");
  expect(await goneA).toBe("io server disconnect");
  await waitUntil(async () => !(await b.services.presence.isConnectedAnywhere(user.email)), 5000, "the user offline everywhere");
});
