/**
 * Database faults: the embedded database is killed in the middle of a stream of
 * sends. The supervisor starts it again, the server resumes by itself, every
 * acknowledged message is stored exactly once, and every refused one can be
 * sent again with its client_id. While the database is away, answers are
 * prompt (cached health), not a pile-up behind driver timeouts.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startEmbeddedDb, type EmbeddedDb, type EmbeddedDbEvent } from "../../src/embedded-db/embedded-db.ts";
import { api, login } from "../helpers/api.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { waitUntil } from "../helpers/wait.ts";

const started: { db: EmbeddedDb; server?: TestServer }[] = [];
afterAll(async () => {
  for (const s of started) {
    await s.server?.stop().catch(() => {});
    await s.db.stop();
  }
});

async function ownDatabase(events: EmbeddedDbEvent[] = []) {
  const db = await startEmbeddedDb({
    dataDir: mkdtempSync(join(tmpdir(), "chat-fault-")),
    projectRoot: resolve(import.meta.dir, "../.."),
    preferFerretDb: true,
    onEvent: (e) => events.push(e),
  });
  const entry: { db: EmbeddedDb; server?: TestServer } = { db };
  started.push(entry);
  entry.server = await startTestServer("fault", { RATE_SEND_PER_10S: "1000000", MESSAGES_PAGE_MAX: "1000" }, db.url);
  return { db, s: entry.server };
}

test("killed mid-stream: restarted, healthy again within 5 s, acked messages stored exactly once, refused ones re-sent", async () => {
  const events: EmbeddedDbEvent[] = [];
  const { db, s } = await ownDatabase(events);
  const [ada, bob] = await Promise.all([login(s, "ada@fault.test", "Ada"), login(s, "bob@fault.test", "Bob")]);
  const N = 300;
  const acked = new Set<number>();
  const refused = new Set<number>();
  let killedAt = 0;
  const firstPid = db.pid;

  // 6 concurrent senders walk through the messages; the database dies once 60 are acknowledged.
  let next = 0;
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      while (next < N) {
        const i = next++;
        if (acked.size >= 60 && !killedAt) {
          killedAt = Date.now();
          process.kill(db.pid, "SIGKILL");
        }
        const r = await api(s, "POST", "/api/messages/send", { token: ada.token, body: { to_email: bob.email, message: `m${i}`, client_id: `c${i}` } });
        if (r.status === 201 || r.status === 200) acked.add(i);
        else {
          expect(r.status).toBe(503);
          expect(r.body.error.code).toBe("DATABASE_UNAVAILABLE");
          refused.add(i);
        }
      }
    }),
  );
  expect(killedAt).toBeGreaterThan(0);

  // Healthy again within 5 s of the kill, by itself, on a new process.
  await waitUntil(async () => (await api(s, "GET", "/health")).status === 200, Math.max(100, 5000 - (Date.now() - killedAt)), "health 200 after the kill");
  expect(db.pid).not.toBe(firstPid);
  expect(db.restarts).toBe(1);
  expect(events.map((e) => e.type)).toContain("restarted");

  // Every refused message can be sent again with its client_id (stored once, whether or not the first try got through).
  for (const i of refused) {
    const r = await api(s, "POST", "/api/messages/send", { token: ada.token, body: { to_email: bob.email, message: `m${i}`, client_id: `c${i}` } });
    expect([200, 201]).toContain(r.status);
  }
  const conversationId = (await api(s, "GET", "/api/conversations", { token: bob.token })).body[0].id;
  const history = await api(s, "GET", `/api/conversations/${conversationId}/messages?limit=1000`, { token: bob.token });
  const stored: string[] = history.body.map((m: { client_id: string }) => m.client_id);
  expect(stored.length).toBe(N);
  expect(new Set(stored).size).toBe(N);
  for (const i of acked) expect(stored).toContain(`c${i}`);
  expect(new Set(history.body.map((m: { seq: number }) => m.seq)).size).toBe(N);
}, 60_000);

test("while the database is down: /health says 503 and sends are refused promptly", async () => {
  const { db, s } = await ownDatabase();
  const [ada, bob] = await Promise.all([login(s, "ada@down.test", "Ada"), login(s, "bob@down.test", "Bob")]);
  expect((await api(s, "POST", "/api/messages/send", { token: ada.token, body: { to_email: bob.email, message: "before" } })).status).toBe(201);
  await s.db.health.check();
  await db.stop(); // stopped on purpose: the supervisor does not restart it
  await waitUntil(async () => !(await s.db.health.check()), 5000, "the health check to notice");

  // Refused from the cached state: no write reaches the driver (which would wait its 2 s server selection each).
  const attempted: string[] = [];
  const onCommand = (e: { commandName: string }) => attempted.push(e.commandName);
  s.db.client.on("commandStarted", onCommand);
  const health = await api(s, "GET", "/health");
  expect(health.status).toBe(503);
  expect(health.body.database).toBe("down");
  const sends = await Promise.all(
    Array.from({ length: 20 }, (_, i) => api(s, "POST", "/api/messages/send", { token: ada.token, body: { to_email: bob.email, message: `x${i}`, client_id: `d${i}` } })),
  );
  s.db.client.off("commandStarted", onCommand);
  for (const r of sends) {
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe("DATABASE_UNAVAILABLE");
  }
  expect(attempted.filter((c) => c === "insert" || c === "findAndModify" || c === "update")).toEqual([]);
  // Down for longer than the driver should need to notice a restart: the connection is rebuilt (self-healing).
  await waitUntil(() => s.db.health.rebuilds() >= 1, 8000, "the connection to be rebuilt");
  expect((await api(s, "GET", "/health")).status).toBe(503);
}, 20_000);
