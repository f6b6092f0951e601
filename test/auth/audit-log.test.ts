/**
 * Audit lines (logins, failed authentications, revocations, rate-limit hits) carry no tokens and no
 * message bodies; LOG_LEVEL=debug logs connects, disconnects with reasons and handler timings.
 * The server gets a logger that keeps its lines in memory instead of writing them to stderr.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { loadConfig } from "../../src/config.ts";
import type { Logger } from "../../src/logger.ts";
import { startServer } from "../../src/server.ts";
import { api, login } from "../helpers/api.ts";
import { closeAllClients, connectAs, request } from "../helpers/clients.ts";
import { testMongoUrl, uniqueDbName, type TestServer } from "../helpers/server.ts";
import { waitFor, waitUntil } from "../helpers/wait.ts";

const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
const keep = (level: string) => (msg: string, fields: Record<string, unknown> = {}) => void lines.push({ level, msg, fields });
const memoryLog: Logger = { debug: keep("debug"), info: keep("info"), warn: keep("warn"), error: keep("error") };

let s: TestServer;
beforeAll(async () => {
  const cfg = loadConfig({
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    PORT: "0",
    DATABASE_NAME: uniqueDbName("audit"),
    JWT_SECRET_KEY: "test-secret-that-is-long-enough-for-hs256-0123456789",
    LOG_LEVEL: "debug",
    RATE_SEND_PER_10S: "1",
  });
  const server = await startServer(cfg, testMongoUrl(), memoryLog);
  s = { ...server, cfg, stopAndDrop: async () => {} };
});
afterAll(async () => {
  closeAllClients();
  await s.db.db.dropDatabase().catch(() => {});
  await s.stop();
});

test("audit lines for login, failed authentication, rate limit and revocation; never a token or a message body", async () => {
  expect(lines.some((l) => l.level === "warn" && l.msg.includes("AUTH_MODE=open"))).toBe(true);
  const ada = await login(s, "ada@example.com", "Ada");
  const bob = await login(s, "bob@example.com", "Bob");
  expect((await api(s, "GET", "/api/users/me", { token: `${ada.token}x` })).status).toBe(401);
  const c = await connectAs(s, ada.token, "websocket");
  expect(await request(c, "send_message", { to_email: bob.email, message: "secret body 1" })).toMatchObject({ ok: true });
  expect(await request(c, "send_message", { to_email: bob.email, message: "secret body 2" })).toMatchObject({ ok: false });
  const gone = waitFor(c, "disconnect", 3000, "disconnect after logout");
  expect((await api(s, "POST", "/api/auth/logout", { token: ada.token })).status).toBe(204);
  await gone;

  const msgs = lines.map((l) => l.msg);
  expect(msgs).toContain("audit: login");
  expect(msgs).toContain("audit: authentication failed");
  expect(msgs).toContain("audit: rate limited");
  expect(msgs).toContain("audit: token revoked");
  const text = JSON.stringify(lines);
  for (const secret of [ada.token, bob.token, ada.token.split(".")[2]!, "secret body"]) expect(text).not.toContain(secret);
});

test("LOG_LEVEL=debug: connects, disconnects with their reason, handler timings", async () => {
  const carol = await login(s, "carol@example.com", "Carol");
  const c = await connectAs(s, carol.token, "websocket");
  await request(c, "get_online_users");
  c.disconnect();
  await waitUntil(() => lines.some((l) => l.msg === "socket disconnected" && l.fields.email === carol.email), 3000, "the disconnect line");
  // Connects and disconnects are info lines (debug includes them), handler timings debug lines.
  const mine = lines.filter((l) => (l.level === "debug" || l.level === "info") && (l.fields.email === carol.email || l.fields.sid === c.id || l.msg === "socket event"));
  expect(mine.find((l) => l.msg === "socket connected")?.fields).toMatchObject({ email: carol.email });
  expect(mine.find((l) => l.msg === "socket disconnected" && l.fields.email === carol.email)?.fields.reason).toBe("client namespace disconnect");
  const timing = mine.find((l) => l.msg === "socket event" && l.fields.event === "get_online_users");
  expect(typeof timing?.fields.ms).toBe("number");
});
