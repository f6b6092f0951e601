/**
 * REST limits: per IP on login and account creation, per user on writes and searches; 429 with
 * Retry-After and RateLimit-* headers. Also: search answers public fields only; security headers.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { api, login } from "../helpers/api.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer("ratelimits", {
    RATE_LOGIN_PER_IP_PER_MIN: "5",
    RATE_SIGNUP_PER_IP_PER_HOUR: "2",
    RATE_REST_WRITE_PER_MIN: "3",
    RATE_SEARCH_PER_MIN: "2",
  });
});
afterAll(() => s.stopAndDrop());

/** A request as if from `ip` (the server's fetch passes Bun's peer address the same way). */
async function from(srv: TestServer, ip: string | undefined, path: string, init: { method?: string; body?: unknown; token?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { "content-type": "application/json", ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const res = await srv.app.request(path, { method: init.method ?? "POST", headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) }, { ip });
  return { status: res.status, headers: res.headers, body: (await res.json().catch(() => null)) as any };
}
const loginFrom = (ip: string, email: string) => from(s, ip, "/api/auth/login", { body: { email, name: "N" } });

let nextIp = 1;
/** Logs a new user in from an address of its own (the sign-up budget is per IP). */
async function freshUser(email: string) {
  const r = await loginFrom(`10.1.0.${nextIp++}`, email);
  return { email, token: r.body.access_token as string };
}

function expect429(r: { status: number; headers: Headers; body: any }, limit: number) {
  expect(r.status).toBe(429);
  expect(r.body.error.code).toBe("RATE_LIMITED");
  expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  expect(r.headers.get("ratelimit-limit")).toBe(String(limit));
  expect(r.headers.get("ratelimit-remaining")).toBe("0");
  expect(Number(r.headers.get("ratelimit-reset"))).toBeGreaterThanOrEqual(1);
  expect(r.body.error.details.retry_after_ms).toBeGreaterThan(0);
}

describe("per IP", () => {
  test("account creation is limited per IP; logins to existing accounts only by the login budget", async () => {
    expect((await loginFrom("10.0.0.1", "new1@example.com")).status).toBe(200);
    expect((await loginFrom("10.0.0.1", "new2@example.com")).status).toBe(200);
    expect429(await loginFrom("10.0.0.1", "new3@example.com"), 2);
    expect((await loginFrom("10.0.0.2", "new3@example.com")).status).toBe(200); // another address
    expect((await loginFrom("10.0.0.1", "new1@example.com")).status).toBe(200); // existing account
  });

  test("login is limited per IP", async () => {
    for (let i = 0; i < 5; i++) expect((await loginFrom("10.0.0.9", "new1@example.com")).status).toBe(200);
    expect429(await loginFrom("10.0.0.9", "new1@example.com"), 5);
    expect((await loginFrom("10.0.0.8", "new1@example.com")).status).toBe(200);
  });

  test("X-Forwarded-For is ignored unless TRUST_PROXY, then the address our proxy appended counts", async () => {
    for (let i = 0; i < 5; i++) await from(s, "10.0.0.7", "/api/auth/login", { body: { email: "new1@example.com", name: "N" }, headers: { "x-forwarded-for": `192.0.2.${i}` } });
    expect((await from(s, "10.0.0.7", "/api/auth/login", { body: { email: "new1@example.com", name: "N" }, headers: { "x-forwarded-for": "192.0.2.99" } })).status).toBe(429);

    const proxied = await startTestServer("trustproxy", { TRUST_PROXY: "true", RATE_LOGIN_PER_IP_PER_MIN: "1" });
    try {
      const via = (xff: string) => from(proxied, "10.0.0.1", "/api/auth/login", { body: { email: "p@example.com", name: "P" }, headers: { "x-forwarded-for": xff } });
      expect((await via("203.0.113.5")).status).toBe(200);
      expect((await via("198.51.100.1, 203.0.113.6")).status).toBe(200); // a client-chosen first entry does not matter
      expect((await via("203.0.113.5")).status).toBe(429);
    } finally {
      await proxied.stopAndDrop();
    }
  });

  test("over the network the key is Bun's peer address", async () => {
    const net = await startTestServer("peerip", { RATE_LOGIN_PER_IP_PER_MIN: "1" });
    try {
      const post = () => fetch(`${net.url}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: "n@example.com", name: "N" }) });
      expect((await post()).status).toBe(200);
      const refused = await post();
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).not.toBeNull();
    } finally {
      await net.stopAndDrop();
    }
  });
});

describe("per user", () => {
  test("writes: over the budget is 429 with the headers; under it the headers count down; other users unaffected", async () => {
    const a = await freshUser("writer@example.com");
    const b = await freshUser("reader@example.com");
    const send = (token: string, to: string) => api(s, "POST", "/api/messages/send", { token, body: { to_email: to, message: "hi" } });
    const first = await send(a.token, b.email);
    expect(first.status).toBe(201);
    expect(first.headers.get("ratelimit-limit")).toBe("3");
    expect(first.headers.get("ratelimit-remaining")).toBe("2");
    await api(s, "POST", "/api/conversations/start", { token: a.token, body: { to_email: b.email } });
    await send(a.token, b.email);
    expect429(await send(a.token, b.email), 3);
    expect((await api(s, "POST", `/api/conversations/${first.body.message.conversation_id}/mark-read`, { token: a.token })).status).toBe(429);
    expect((await api(s, "PATCH", "/api/users/me", { token: a.token, body: { name: "W" } })).status).toBe(429);
    expect((await api(s, "GET", "/api/conversations", { token: a.token })).status).toBe(200); // reads are not budgeted
    expect((await send(b.token, a.email)).status).toBe(201);
  });

  test("searches", async () => {
    const a = await freshUser("searcher@example.com");
    const q = () => api(s, "GET", "/api/users/search?query=example", { token: a.token });
    expect((await q()).status).toBe(200);
    expect((await q()).status).toBe(200);
    expect429(await q(), 2);
  });
});

test("search returns public profile fields only (no presence)", async () => {
  const srv = await startTestServer("searchfields");
  try {
    const a = await login(srv, "a@example.com", "A");
    await login(srv, "b@example.com", "B");
    const r = await api(srv, "GET", "/api/users/search?query=b", { token: a.token });
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(1);
    expect(Object.keys(r.body[0]).sort()).toEqual(["email", "id", "name", "profile_image"]);
  } finally {
    await srv.stopAndDrop();
  }
});

test("security headers on REST answers; /docs still renders", async () => {
  const r = await api(s, "GET", "/health");
  expect(r.headers.get("x-content-type-options")).toBe("nosniff");
  expect(r.headers.get("x-frame-options")).toBe("SAMEORIGIN");
  const docs = await s.app.request("/docs");
  expect(docs.status).toBe(200);
  expect(await docs.text()).toContain("swagger");
});
