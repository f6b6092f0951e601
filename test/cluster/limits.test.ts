/**
 * Cluster mode: limits and revocations hold across nodes. A user's event budget is one budget whichever nodes
 * their sockets are on (counted in Redis), and a logout on one node disconnects the token's sockets on every node.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Socket } from "socket.io-client";
import { waitFor } from "../helpers/wait.ts";
import { clusterEnv, connectTo, loginAt, startNode, startRedis, stopAll, type Node } from "./harness.ts";

let a: Node;
let b: Node;

beforeAll(async () => {
  const redis = await startRedis();
  const env = clusterEnv(redis, "limits", { RATE_SEND_PER_10S: "6" });
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
