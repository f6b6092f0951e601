/**
 * Cluster mode: limits and revocations hold across nodes. A user's event budget is one budget whichever nodes
 * their sockets are on (counted in Redis), a logout on one node disconnects the token's sockets on every node, and
 * a user the host disables through one node is refused and disconnected on every node until re-enabled there.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Socket } from "socket.io-client";
import { waitFor, waitUntil } from "../helpers/wait.ts";
import { clusterEnv, connectTo, loginAt, startNode, startRedis, stopAll, type Node } from "./harness.ts";

let a: Node;
let b: Node;
const API_KEY = "cluster-admin-key-0123456789abcdef0123";

beforeAll(async () => {
  const redis = await startRedis();
  const env = clusterEnv(redis, "limits", { RATE_SEND_PER_10S: "6", AUTH_API_KEYS: API_KEY });
  [a, b] = (await Promise.all([startNode(env), startNode(env)])) as [Node, Node];
}, 60_000);

afterAll(async () => {
  await stopAll();
});

const ack = (s: Socket, event: string, payload: unknown) => s.timeout(8000).emitWithAck(event, payload) as Promise<any>;

test("a user's send budget is one budget across nodes", async () => {
  await loginAt(a.url, "peer@l.test");
  const token = await loginAt(a.url, "spender@l.test");
  const onA = await connectTo(a.url, token, { transports: ["websocket"] });
  const onB = await connectTo(b.url, token, { transports: ["websocket"] });
  const results: boolean[] = [];
  // Alternating nodes: each node alone would allow 6; together the user gets 6.
  for (let i = 0; i < 10; i++) results.push((await ack(i % 2 === 0 ? onA : onB, "send_message", { to_email: "peer@l.test", message: `m${i}` })).ok);
  expect(results.filter(Boolean).length).toBe(6);
  const refused = await ack(onB, "send_message", { to_email: "peer@l.test", message: "one more" });
  expect(refused.ok).toBe(false);
  expect(refused.error.code).toBe("RATE_LIMITED");
});

test("a logout on one node disconnects the token's sockets on every node, and the token is refused everywhere", async () => {
  const token = await loginAt(a.url, "leaver@l.test");
  const onA = await connectTo(a.url, token, { transports: ["websocket"] });
  const onB = await connectTo(b.url, token, { transports: ["websocket"] });
  const errorOnB = waitFor(onB, "error", 10_000, "error on the other node's socket");
  const goneA = waitFor(onA, "disconnect", 10_000, "socket on the logout node disconnected");
  const goneB = waitFor(onB, "disconnect", 10_000, "socket on the other node disconnected");
  const r = await fetch(`${a.url}/api/auth/logout`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
  expect(r.status).toBe(204);
  expect((await errorOnB).code).toBe("UNAUTHORIZED");
  expect(await goneB).toBe("io server disconnect");
  expect(await goneA).toBe("io server disconnect");
  const rest = await fetch(`${b.url}/api/conversations`, { headers: { authorization: `Bearer ${token}` } });
  expect(rest.status).toBe(401);
  await expect(connectTo(b.url, token, { transports: ["websocket"] })).rejects.toThrow();
});

test("a user disabled through one node is disconnected and refused on every node; re-enabled, accepted everywhere", async () => {
  const email = "disabled@l.test";
  const token = await loginAt(a.url, email);
  const onB = await connectTo(b.url, token, { transports: ["websocket"] });
  const goneB = waitFor(onB, "disconnect", 10_000, "socket on the other node disconnected");
  const admin = (url: string, method: string, body?: unknown) =>
    fetch(`${url}/api/admin/users/${encodeURIComponent(email)}`, {
      method,
      headers: { "x-api-key": API_KEY, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  expect((await admin(a.url, "DELETE")).status).toBe(200);
  expect(await goneB).toBe("io server disconnect");
  const refused = await fetch(`${b.url}/api/conversations`, { headers: { authorization: `Bearer ${token}` } });
  expect([401, 403]).toContain(refused.status);
  expect(((await refused.json()) as any).error.code).toBe("USER_DISABLED");
  await expect(connectTo(b.url, token, { transports: ["websocket"] })).rejects.toThrow();

  expect((await admin(a.url, "PUT", { name: "Back", disabled: false })).status).toBe(200);
  // The lift travels by Redis: node B accepts the token once it has heard it.
  const acceptedOnB = async () => (await fetch(`${b.url}/api/conversations`, { headers: { authorization: `Bearer ${token}` } })).status === 200;
  await waitUntil(acceptedOnB, 5000, "token accepted on node B after re-enabling");
  const again = await connectTo(b.url, token, { transports: ["websocket"] });
  expect(again.connected).toBe(true);
});
