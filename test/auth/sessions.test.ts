/**
 * Sessions that end: token_expiring, refresh_token, TOKEN_EXPIRED + server-side disconnect
 * (websocket and polling), logout revoking REST and sockets, revocations surviving a restart.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sign } from "hono/jwt";
import type { Socket } from "socket.io-client";
import { api, login, type TestUser } from "../helpers/api.ts";
import { closeAllClients, connectAs, request } from "../helpers/clients.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { collect, waitFor, waitUntil } from "../helpers/wait.ts";

let s: TestServer;
let ada: TestUser;
let bob: TestUser;
beforeAll(async () => {
  s = await startTestServer("sessions", { TOKEN_EXPIRY_WARNING_SECONDS: "1" });
  ada = await login(s, "ada@example.com", "Ada");
  bob = await login(s, "bob@example.com", "Bob");
});
afterAll(async () => {
  closeAllClients();
  await s.stopAndDrop();
});

/** A token of this server that expires in `seconds` (as a login would issue with a short JWT_EXPIRE_MINUTES). */
const shortToken = (email: string, seconds: number) => {
  const now = Math.floor(Date.now() / 1000);
  return sign({ sub: email, iat: now, exp: now + seconds, jti: crypto.randomUUID() }, s.cfg.JWT_SECRET_KEY, "HS256");
};

const disconnectReason = (c: Socket) => waitFor<string>(c, "disconnect", 6000, "server-side disconnect");

/** Websocket only, and polling only (the packets wait in the session's buffer for the next GET). */
const MODES = [
  ["websocket", { transports: ["websocket"] }],
  ["polling", { transports: ["polling"] }],
] as const;
const connect = (token: string, transports: readonly string[]) => connectAs(s, token, "default", { transports: [...transports] });

// Each test waits for real token expiry (JWT times are in whole seconds): they run concurrently, each with its own user.
describe.each(MODES)("transport %s", (mode, { transports }) => {
  test.concurrent("token_expiring comes before expiry, then error TOKEN_EXPIRED and a server-side disconnect", async () => {
    const me = await login(s, `expiry-${mode}@example.com`);
    const c = await connect(await shortToken(me.email, 3), transports);
    const errors = collect(c, "error");
    const warning = await waitFor<{ expires_at: string }>(c, "token_expiring", 4000, "token_expiring");
    expect(Date.parse(warning.expires_at) - Date.now()).toBeGreaterThan(0);
    expect(Date.parse(warning.expires_at) - Date.now()).toBeLessThanOrEqual(2100);
    expect(await disconnectReason(c)).toBe("io server disconnect");
    expect(errors).toEqual([{ code: "TOKEN_EXPIRED", message: "token expired" }]);
    expect(c.active).toBe(false); // socket.io-client does not reconnect after a server-side disconnect
  });

  test.concurrent("refresh_token with a fresh token of the same user keeps the socket; another user's token is refused", async () => {
    const me = await login(s, `refresh-${mode}@example.com`); // refresh has a per-user budget
    const oldExpiry = Date.now() + 3000;
    const c = await connect(await shortToken(me.email, 3), transports);
    const control = await connect(await shortToken(me.email, 3), transports);
    await waitFor(c, "token_expiring", 4000, "token_expiring");
    const refused = await request(c, "refresh_token", { token: bob.token });
    expect(refused).toMatchObject({ ok: false, error: { code: "FORBIDDEN" } });
    expect(await request(c, "refresh_token", {})).toMatchObject({ ok: false, error: { code: "VALIDATION_FAILED" } });
    const fresh = await login(s, me.email);
    const ack = await request(c, "refresh_token", { token: fresh.token });
    expect(ack.ok).toBe(true);
    expect(Date.parse(ack.expires_at)).toBeGreaterThan(Date.now() + 60_000);
    // The control socket (same old expiry, no refresh) is ended; the refreshed one lives on and works.
    await disconnectReason(control);
    await waitUntil(() => Date.now() > oldExpiry + 1000, 3000, "a tick past the old expiry");
    expect(c.connected).toBe(true);
    expect(await request(c, "get_online_users")).toMatchObject({ ok: true });
  });
});

test("a socket connecting with an expired token is refused", async () => {
  await expect(connectAs(s, await shortToken(ada.email, -5), "websocket")).rejects.toMatchObject({ data: { code: "UNAUTHORIZED" } });
});

test("logout revokes the token: REST 401 from then on, its sockets disconnected within a second, other tokens untouched", async () => {
  const session = await login(s, "carol@example.com", "Carol");
  const other = await login(s, "carol@example.com", "Carol");
  const ws = await connectAs(s, session.token, "websocket");
  const polling = await connectAs(s, session.token, "default", { transports: ["polling"] });
  const untouched = await connectAs(s, other.token, "websocket");
  const wsErrors = collect(ws, "error");
  const gone = Promise.all([disconnectReason(ws), disconnectReason(polling)]);
  const started = Date.now();
  const r = await api(s, "POST", "/api/auth/logout", { token: session.token });
  expect(r.status).toBe(204);
  expect(await Promise.race([gone, Bun.sleep(1000).then(() => "too slow")])).toEqual(["io server disconnect", "io server disconnect"]);
  expect(Date.now() - started).toBeLessThan(1000);
  expect(wsErrors).toEqual([{ code: "UNAUTHORIZED", message: "token revoked" }]);
  expect((await api(s, "GET", "/api/users/me", { token: session.token })).status).toBe(401);
  await expect(connectAs(s, session.token, "websocket")).rejects.toMatchObject({ data: { code: "UNAUTHORIZED" } });
  expect(untouched.connected).toBe(true);
  expect((await api(s, "GET", "/api/users/me", { token: other.token })).status).toBe(200);
});

test("revocations are stored: a restarted server still refuses a logged-out token", async () => {
  const session = await login(s, "dave@example.com", "Dave");
  expect((await api(s, "POST", "/api/auth/logout", { token: session.token })).status).toBe(204);
  const again = await startTestServer("sessions2", { DATABASE_NAME: s.cfg.DATABASE_NAME });
  try {
    expect((await api(again, "GET", "/api/users/me", { token: session.token })).status).toBe(401);
    const stored = await again.db.collections.revocations.find({}).toArray();
    expect(stored.every((d) => d.expires_at.getTime() > Date.now())).toBe(true);
  } finally {
    await again.stop();
  }
});
