/**
 * Webhooks to the host: a loopback receiver that fails, times out and succeeds by turns gets
 * every event, signed, exactly once accepted per delivery id; the outbox is stored with the
 * message and survives a restart; a delivery still failing after WEBHOOK_RETRY_FOR_MS is
 * recorded on the message; chat delivery never waits for the host.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { backoffDelay, leaseFor } from "../../src/webhooks/dispatcher.ts";
import { signatureHeader, verifySignature } from "../../src/webhooks/signature.ts";
import { api, login } from "../helpers/api.ts";
import { closeAllClients, connectAs } from "../helpers/clients.ts";
import { startTestServer, uniqueDbName, type TestServer } from "../helpers/server.ts";
import { waitFor, waitUntil } from "../helpers/wait.ts";

const SECRET = "webhook-secret-0123456789";
/** How long a "slow" host takes to answer each delivery (well inside the timeout). */
const SLOW_MS = 300;

type Mode = "ok" | "fail" | "hang" | "hold" | "slow";
interface Delivery {
  id: string;
  type: string;
  recipient: string | null;
  message: { id: string; message: string; sender_email: string };
  conversation: { id: string; participants: string[] } | null;
}

/** A host that answers each attempt as `plan(id, attempt)` says and keeps the accepted (2xx) deliveries. */
function startReceiver(plan: (id: string, attempt: number) => Mode) {
  const attempts = new Map<string, number>();
  const accepted: Delivery[] = [];
  const badSignatures: string[] = [];
  const held: (() => void)[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const body = await req.text();
      const id = req.headers.get("x-chat-delivery") ?? "";
      const n = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, n);
      if (!verifySignature(SECRET, req.headers.get("x-chat-signature"), body)) badSignatures.push(id);
      const mode = plan(id, n);
      if (mode === "fail") return new Response("no", { status: 503 });
      if (mode === "hang") {
        await Bun.sleep(1500);
        return new Response("late");
      }
      if (mode === "hold") await new Promise<void>((r) => held.push(r));
      if (mode === "slow") await Bun.sleep(SLOW_MS);
      const d = JSON.parse(body) as Delivery;
      expect(d.id).toBe(id);
      expect(req.headers.get("x-chat-event")).toBe(d.type);
      accepted.push(d);
      return new Response(null, { status: 204 });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/hook`, attempts, accepted, badSignatures, held, stop: () => server.stop(true) };
}

const fastRetry = (url: string, extra: Record<string, string> = {}) => ({
  WEBHOOK_URL: url,
  WEBHOOK_SECRET: SECRET,
  WEBHOOK_TIMEOUT_MS: "300",
  WEBHOOK_BACKOFF_MS: "20",
  WEBHOOK_BACKOFF_MAX_MS: "100",
  WEBHOOK_POLL_MS: "20",
  ...extra,
});

const send = async (s: TestServer, token: string, to: string, message: string) => {
  const r = await api(s, "POST", "/api/messages/send", { token, body: { to_email: to, message } });
  expect(r.status).toBe(201);
  return r.body.message as { id: string };
};

describe("signature and backoff", () => {
  test("X-Chat-Signature: t=<unix>,v1=<hex HMAC-SHA256 of t.body>; tampering, another secret or an old t fail", () => {
    const body = '{"a":1}';
    const h = signatureHeader(SECRET, body);
    expect(h).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const t = Number(/t=(\d+)/.exec(h)![1]);
    const expected = new Bun.CryptoHasher("sha256", SECRET).update(`${t}.${body}`).digest("hex");
    expect(h).toBe(`t=${t},v1=${expected}`);
    expect(verifySignature(SECRET, h, body)).toBe(true);
    expect(verifySignature(SECRET, h, '{"a":2}')).toBe(false);
    expect(verifySignature("another-secret-0123456789", h, body)).toBe(false);
    expect(verifySignature(SECRET, signatureHeader(SECRET, body, t - 3600), body)).toBe(false);
    expect(verifySignature(SECRET, "garbage", body)).toBe(false);
    expect(verifySignature(SECRET, null, body)).toBe(false);
  });

  test("exponential backoff with jitter, capped", () => {
    expect(backoffDelay(1, 1000, 60_000, 0)).toBe(500);
    expect(backoffDelay(1, 1000, 60_000, 1)).toBe(1000);
    expect(backoffDelay(4, 1000, 60_000, 1)).toBe(8000);
    expect(backoffDelay(30, 1000, 60_000, 0.5)).toBe(45_000);
  });
});

describe("delivery", () => {
  const turns: Mode[] = ["ok", "fail", "hang"];
  let order = 0;
  const firstSeen = new Map<string, number>();
  // Delivery k (in arrival order) fails or times out on its first attempt by turns, then succeeds.
  const receiver = startReceiver((id, attempt) => {
    if (!firstSeen.has(id)) firstSeen.set(id, order++);
    return attempt === 1 ? turns[firstSeen.get(id)! % 3]! : "ok";
  });
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer("webhooks", fastRetry(receiver.url, { WEBHOOK_EVENTS: "message.offline,message.created" }));
  });
  afterAll(async () => {
    closeAllClients();
    await s.stopAndDrop();
    receiver.stop();
  });

  test("every event arrives, signed, once per delivery id, through failures and timeouts; none for a connected recipient", async () => {
    const ada = await login(s, "ada@example.com", "Ada");
    const bob = await login(s, "bob@example.com", "Bob");
    const carl = await login(s, "carl@example.com", "Carl");
    await connectAs(s, carl.token, "websocket");
    const toBob = [];
    for (let i = 0; i < 6; i++) toBob.push(await send(s, ada.token, bob.email, `offline note ${i}`));
    const toCarl = await send(s, ada.token, carl.email, "carl is here");
    // 6 offline + 7 created.
    await waitUntil(() => receiver.accepted.length >= 13, 20_000, "13 accepted deliveries");
    const offline = receiver.accepted.filter((d) => d.type === "message.offline");
    const created = receiver.accepted.filter((d) => d.type === "message.created");
    expect(offline.map((d) => d.message.id).sort()).toEqual(toBob.map((m) => m.id).sort());
    expect(offline.every((d) => d.recipient === bob.email && d.conversation?.participants.includes(bob.email))).toBe(true);
    expect(created.map((d) => d.message.id).sort()).toEqual([...toBob, toCarl].map((m) => m.id).sort());
    expect(created.every((d) => d.recipient === null)).toBe(true);
    expect(new Set(receiver.accepted.map((d) => d.id)).size).toBe(receiver.accepted.length);
    expect(receiver.badSignatures).toEqual([]);
    // Some were retried after a 503 and some after a timeout.
    expect([...receiver.attempts.values()].filter((n) => n > 1).length).toBeGreaterThanOrEqual(4);
    // Done: nothing pending is left on the messages.
    await waitUntil(async () => (await s.db.collections.messages.countDocuments({ webhook_due: { $exists: true } })) === 0, 5000, "outbox drained");
  });
});

test("chat delivery never waits for the host; the outbox is stored in the message document", async () => {
  const receiver = startReceiver(() => "hold");
  const s = await startTestServer("webhookhold", fastRetry(receiver.url, { WEBHOOK_EVENTS: "message.created", WEBHOOK_TIMEOUT_MS: "30000" }));
  try {
    const ada = await login(s, "ada@example.com", "Ada");
    const bob = await login(s, "bob@example.com", "Bob");
    const socket = await connectAs(s, bob.token, "websocket");
    const first = await send(s, ada.token, bob.email, "one");
    await waitUntil(() => receiver.held.length === 1, 5000, "the host holding the first delivery");
    // The host is still holding its request: the next message is stored and delivered anyway.
    const arrived = waitFor(socket, "new_message", 5000, "new_message while the host hangs");
    const second = await send(s, ada.token, bob.email, "two");
    expect((await arrived).id).toBe(second.id);
    expect(receiver.held.length).toBe(1);
    const doc = await s.db.collections.messages.findOne({ message: "two" });
    expect(doc?.webhooks?.map((d) => d.type)).toEqual(["message.created"]);
    expect(doc?.webhook_due).toBeInstanceOf(Date);
    for (const release of receiver.held.splice(0)) release();
    await waitUntil(() => receiver.accepted.some((d) => d.message.id === first.id), 5000, "the held delivery accepted");
  } finally {
    for (const release of receiver.held.splice(0)) release();
    closeAllClients();
    await s.stopAndDrop();
    receiver.stop();
  }
});

test("a message owing many deliveries to a slow host is sent once each, with two dispatchers: its claim covers them all, sent WEBHOOK_CONCURRENCY at once", async () => {
  const members = 40;
  const timeoutMs = 1000;
  // One at a time, the old claim (timeout·4 + 5 s) ran out mid-way and the other node's poll sent everything again.
  expect(members * SLOW_MS).toBeGreaterThan(timeoutMs * 4 + 5_000);
  expect(leaseFor(members, timeoutMs, 8)).toBeGreaterThan(Math.ceil(members / 8) * SLOW_MS + 5_000);
  const receiver = startReceiver(() => "slow");
  const env = fastRetry(receiver.url, {
    DATABASE_NAME: uniqueDbName("webhookslow"),
    WEBHOOK_TIMEOUT_MS: String(timeoutMs),
    WEBHOOK_CONCURRENCY: "8",
    RATE_LOGIN_PER_IP_PER_MIN: "1000",
  });
  // Two servers on one database: both dispatchers poll the same outbox.
  const s = await startTestServer("webhookslow", env);
  const other = await startTestServer("webhookslow", env);
  try {
    const owner = await login(s, "owner@slow.test", "Owner");
    const others = await Promise.all(Array.from({ length: members }, (_, i) => login(s, `m${i}@slow.test`, `m${i}`)));
    const g = await api(s, "POST", "/api/conversations", {
      token: owner.token,
      body: { conversation_type: "group", title: "Many offline", members: others.map((u) => u.email) },
    });
    expect(g.status).toBe(201);
    const r = await api(s, "POST", "/api/messages/send", { token: owner.token, body: { conversation_id: g.body.id, message: "to all" } });
    expect(r.status).toBe(201);
    await waitUntil(async () => (await s.db.collections.messages.countDocuments({ webhook_due: { $exists: true } })) === 0, 20_000, "outbox drained");
    // A few more polls of both: nothing is sent again.
    await Bun.sleep(200);
    expect(receiver.accepted.filter((d) => d.type === "message.offline").map((d) => d.recipient).sort()).toEqual(others.map((u) => u.email).sort());
    expect([...receiver.attempts.values()].filter((n) => n > 1)).toEqual([]);
    expect(receiver.attempts.size).toBe(members);
    expect(receiver.badSignatures).toEqual([]);
  } finally {
    await other.stop();
    await s.stopAndDrop();
    receiver.stop();
  }
}, 40_000);

test("nothing is lost across a restart: deliveries stored while the host was down arrive from the next server", async () => {
  let up = false;
  const receiver = startReceiver(() => (up ? "ok" : "fail"));
  const env = fastRetry(receiver.url, { DATABASE_NAME: uniqueDbName("webhookrestart"), WEBHOOK_BACKOFF_MS: "50", WEBHOOK_BACKOFF_MAX_MS: "200" });
  const first = await startTestServer("webhookrestart", env);
  const ada = await login(first, "ada@example.com", "Ada");
  const bob = await login(first, "bob@example.com", "Bob");
  const sent = [];
  for (let i = 0; i < 5; i++) sent.push(await send(first, ada.token, bob.email, `while down ${i}`));
  await waitUntil(() => receiver.attempts.size === 5, 5000, "a failed attempt of each");
  await first.stop();
  expect(receiver.accepted).toEqual([]);
  up = true;
  const second = await startTestServer("webhookrestart", env);
  try {
    await waitUntil(() => receiver.accepted.length === 5, 10_000, "all 5 after the restart");
    expect(receiver.accepted.map((d) => d.message.id).sort()).toEqual(sent.map((m) => m.id).sort());
    expect(receiver.badSignatures).toEqual([]);
  } finally {
    await second.stopAndDrop();
    receiver.stop();
  }
});

test("a delivery still failing after WEBHOOK_RETRY_FOR_MS is given up and recorded on the message", async () => {
  const receiver = startReceiver(() => "fail");
  const s = await startTestServer("webhookgiveup", fastRetry(receiver.url, { WEBHOOK_RETRY_FOR_MS: "300" }));
  try {
    const ada = await login(s, "ada@example.com", "Ada");
    const bob = await login(s, "bob@example.com", "Bob");
    await send(s, ada.token, bob.email, "never delivered");
    await waitUntil(async () => ((await s.db.collections.messages.findOne({ message: "never delivered" }))?.webhook_failures?.length ?? 0) === 1, 10_000, "the failure recorded");
    const doc = await s.db.collections.messages.findOne({ message: "never delivered" });
    expect(doc?.webhooks).toBeUndefined();
    expect(doc?.webhook_due).toBeUndefined();
    expect(doc?.webhook_failures?.[0]).toMatchObject({ type: "message.offline", recipient: bob.email, last_error: "HTTP 503" });
    expect(doc!.webhook_failures![0]!.attempts).toBeGreaterThanOrEqual(2);
  } finally {
    await s.stopAndDrop();
    receiver.stop();
  }
});

test("WEBHOOK_URL without WEBHOOK_SECRET is refused at start", async () => {
  await expect(startTestServer("webhooknosecret", { WEBHOOK_URL: "http://127.0.0.1:1/hook" })).rejects.toThrow(/WEBHOOK_SECRET/);
});

test("the dispatcher's query {webhook_due: {$lte: now}} sort/limit is answered from scalar_webhook_due (FerretDB pushdown)", async () => {
  const s = await startTestServer("webhookplan");
  try {
    const names = (await s.db.collections.messages.listIndexes().toArray()).map((i) => i.name);
    expect(names).toContain("scalar_webhook_due");
    if (process.env.TEST_DB_KIND !== "ferretdb") return;
    const res = (await s.db.db.command({
      explain: { find: "chat_messages", filter: { webhook_due: { $lte: new Date() } }, sort: { webhook_due: 1 }, limit: 8 },
    })) as { queryPlanner: { Plan: string[] }; filterPushdown: boolean; sortPushdown: boolean };
    const text = res.queryPlanner.Plan.join("\n");
    expect(text).toContain("scalar_webhook_due");
    expect(text).not.toMatch(/\bSCAN\b/);
    expect(res.filterPushdown).toBe(true);
    expect(res.sortPushdown).toBe(true);
  } finally {
    await s.stopAndDrop();
  }
});
