/**
 * GET /metrics after real traffic (socket.io-client on polling→websocket and
 * websocket, REST sends, a rate-limit refusal, a bad event): every family
 * the issue asks for is present and the counters moved. Also the access
 * rules: METRICS_TOKEN (bearer) and METRICS_PORT (own listener).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { api, login, type TestUser } from "../helpers/api.ts";
import { closeAllClients, connectAs, request, upgraded } from "../helpers/clients.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { waitFor, waitUntil } from "../helpers/wait.ts";

const TOKEN = "metrics-token-0123456789";
let s: TestServer;
let alice: TestUser;
let bob: TestUser;
beforeAll(async () => {
  s = await startTestServer("metrics", { METRICS_TOKEN: TOKEN, RATE_TYPING_PER_10S: "2" });
  alice = await login(s, "alice@example.com", "Alice");
  bob = await login(s, "bob@example.com", "Bob");
});
afterAll(async () => {
  closeAllClients();
  await s.stopAndDrop();
});

async function scrape(base = s.url, token: string | undefined = TOKEN): Promise<string> {
  const res = await fetch(`${base}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  return res.text();
}

/** The value of one sample, e.g. value(text, 'chat_socket_events_received_total{event="send_message"}'). */
function value(text: string, sample: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${sample} `));
  return line === undefined ? Number.NaN : Number(line.slice(sample.length + 1));
}

test("without the bearer token /metrics answers 401", async () => {
  expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
  expect((await fetch(`${s.url}/metrics`, { headers: { authorization: "Bearer wrong-token-0123456789" } })).status).toBe(401);
});

test("after real traffic, every family is there and the counters moved", async () => {
  const before = await scrape();
  const a = await connectAs(s, alice.token, "websocket");
  const b = await connectAs(s, bob.token, "default");
  await upgraded(b);
  const during = await scrape();
  expect(value(during, 'chat_connected_sockets{transport="websocket"}')).toBe(2);

  const delivered = waitFor(b, "new_message");
  const ack = await request(a, "send_message", { to_email: bob.email, message: "counted" });
  expect(ack.ok).toBe(true);
  await delivered;
  expect((await api(s, "POST", "/api/messages/send", { token: bob.token, body: { to_email: alice.email, message: "via REST" } })).status).toBe(201);
  const conversation_id = ack.message.conversation_id;
  const refusals: string[] = [];
  for (let i = 0; i < 4; i++) {
    const r = await request(a, "typing_start", { conversation_id });
    if (!r.ok) refusals.push(r.error.code);
  }
  expect(refusals).toContain("RATE_LIMITED");
  a.emit("no_such_event", {});
  expect((await request(a, "mark_as_read", { conversation_id: "nope" })).ok).toBe(false);
  a.disconnect();
  b.disconnect();
  // The disconnects are counted when the server sees them close.
  const left = 'chat_socket_disconnects_total{reason="client namespace disconnect"}';
  let after = "";
  await waitUntil(async () => value((after = await scrape()), left) - (value(before, left) || 0) >= 2, 5000, "both disconnects counted");

  const moved = (sample: string, by = 1) => expect(value(after, sample) - (value(before, sample) || 0)).toBeGreaterThanOrEqual(by);
  moved("chat_socket_connections_total", 2);
  moved('chat_socket_disconnects_total{reason="client namespace disconnect"}', 2);
  moved('chat_socket_events_received_total{event="send_message"}');
  moved('chat_socket_events_received_total{event="typing_start"}', 4);
  moved('chat_socket_events_received_total{event="other"}');
  moved('chat_socket_events_emitted_total{event="new_message"}', 2);
  moved('chat_socket_events_emitted_total{event="message_notification"}', 2);
  moved('chat_socket_events_emitted_total{event="error"}', 2);
  moved('chat_event_duration_seconds_count{event="send_message"}');
  moved('chat_event_errors_total{event="mark_as_read",code="VALIDATION_FAILED"}');
  moved('chat_rate_limited_total{event="typing_start"}');
  moved("chat_message_stored_seconds_count", 2);
  moved("chat_message_delivered_seconds_count", 2);
  moved('chat_db_command_duration_seconds_count{command="insert"}', 2);
  expect(after).toContain("# TYPE chat_db_command_errors_total counter");
  expect(value(after, "chat_embedded_db_restarts_total")).toBe(0);
  expect(value(after, "process_resident_memory_bytes")).toBeGreaterThan(1e6);
  expect(after).toContain("nodejs_eventloop_lag_seconds");
  expect(value(after, 'chat_connected_sockets{transport="websocket"}')).toBe(0);
});

test("the embedded-db supervisor's hook counts restarts", async () => {
  s.metrics.embeddedDbRestarts.inc();
  expect(value(await scrape(), "chat_embedded_db_restarts_total")).toBe(1);
});

test("METRICS_PORT serves /metrics on its own listener, not on the main port", async () => {
  const other = await startTestServer("metricsport", { METRICS_PORT: "0" });
  try {
    expect(other.metricsPort).toBeGreaterThan(0);
    expect((await fetch(`${other.url}/metrics`)).status).toBe(404);
    expect(await scrape(`http://127.0.0.1:${other.metricsPort}`, undefined)).toContain("chat_socket_connections_total");
  } finally {
    await other.stopAndDrop();
  }
});

test("in production, /metrics is never open on the main port", async () => {
  const prod = await startTestServer("metricsprod", { NODE_ENV: "production", AUTH_MODE: "trusted", AUTH_API_KEYS: "k".repeat(32) });
  try {
    expect((await fetch(`${prod.url}/metrics`)).status).toBe(404);
  } finally {
    await prod.stopAndDrop();
  }
});
