/** AUTH_MODE: open refused in production, trusted (X-API-Key), jwt with a shared secret; REST and sockets alike. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sign } from "hono/jwt";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { api } from "../helpers/api.ts";
import { closeAllClients, connectAs, request } from "../helpers/clients.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const KEY_A = "host-backend-key-a-0123456789abcdef";
const KEY_B = "host-backend-key-b-0123456789abcdef";
const HOST_SECRET = "the-host-applications-own-hmac-secret-0123456789";
const now = () => Math.floor(Date.now() / 1000);

describe("config", () => {
  test("open is refused with NODE_ENV=production, naming AUTH_MODE", () => {
    expect(() => loadConfig({ NODE_ENV: "production", JWT_SECRET_KEY: "x".repeat(40) })).toThrow(/AUTH_MODE/);
    expect(() => loadConfig({ NODE_ENV: "production", JWT_SECRET_KEY: "x".repeat(40), AUTH_MODE: "open" })).toThrow(ConfigError);
  });

  test("trusted needs keys of at least 32 characters; jwt needs exactly one key source; jwt needs no JWT_SECRET_KEY", () => {
    expect(() => loadConfig({ AUTH_MODE: "trusted" })).toThrow(/AUTH_API_KEYS/);
    expect(() => loadConfig({ AUTH_MODE: "trusted", AUTH_API_KEYS: `${KEY_A},short` })).toThrow(/AUTH_API_KEYS/);
    expect(loadConfig({ AUTH_MODE: "trusted", AUTH_API_KEYS: `${KEY_A}, ${KEY_B}` }).AUTH_API_KEYS).toEqual([KEY_A, KEY_B]);
    expect(() => loadConfig({ AUTH_MODE: "jwt" })).toThrow(/AUTH_JWT_SECRET/);
    expect(() => loadConfig({ AUTH_MODE: "jwt", AUTH_JWT_SECRET: HOST_SECRET, AUTH_JWKS_URL: "https://id.example/jwks.json" })).toThrow(ConfigError);
    expect(loadConfig({ NODE_ENV: "production", AUTH_MODE: "jwt", AUTH_JWKS_URL: "https://id.example/jwks.json" }).AUTH_MODE).toBe("jwt");
  });
});

describe("AUTH_MODE=trusted", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer("trusted", { AUTH_MODE: "trusted", AUTH_API_KEYS: `${KEY_A},${KEY_B}`, RATE_LOGIN_PER_IP_PER_MIN: "3" });
  });
  afterAll(async () => {
    closeAllClients();
    await s.stopAndDrop();
  });
  const hostLogin = (key: string | undefined, body: unknown) =>
    api(s, "POST", "/api/auth/login", { body, headers: key === undefined ? {} : { "x-api-key": key } });

  test("login without or with a wrong key is 401 INVALID_API_KEY", async () => {
    for (const key of [undefined, "", "wrong", `${KEY_A}x`, KEY_A.slice(0, -1)]) {
      const r = await hostLogin(key, { email: "ada@example.com", name: "Ada" });
      if (r.status === 429) continue; // failed attempts are counted per IP
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe("INVALID_API_KEY");
    }
  });

  test("the host backend logs users in with either key (rotation), and its word updates the profile", async () => {
    const a = await hostLogin(KEY_A, { email: "ada@example.com", name: "Ada" });
    expect(a.status).toBe(200);
    const b = await hostLogin(KEY_B, { email: "ada@example.com", name: "Ada Lovelace", profile_image: "https://img.example/a.png" });
    expect(b.status).toBe(200);
    expect(b.body.user).toMatchObject({ name: "Ada Lovelace", profile_image: "https://img.example/a.png" });
    const me = await api(s, "GET", "/api/users/me", { token: b.body.access_token });
    expect(me.body.name).toBe("Ada Lovelace");
    // Many logins from the host's one address are not limited per IP (the key vouches for them).
    for (let i = 0; i < 5; i++) expect((await hostLogin(KEY_A, { email: `u${i}@example.com`, name: "U" })).status).toBe(200);
  });

  test("the token works on sockets like any other", async () => {
    const r = await hostLogin(KEY_A, { email: "sock@example.com", name: "Sock" });
    const c = await connectAs(s, r.body.access_token, "websocket");
    expect(await request(c, "get_online_users")).toMatchObject({ ok: true });
  });
});

describe("AUTH_MODE=jwt with AUTH_JWT_SECRET", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer("jwtsecret", {
      AUTH_MODE: "jwt",
      AUTH_JWT_SECRET: HOST_SECRET,
      AUTH_JWT_ISSUER: "https://host.example",
      AUTH_JWT_AUDIENCE: "chat",
      AUTH_EMAIL_CLAIM: "mail",
    });
  });
  afterAll(async () => {
    closeAllClients();
    await s.stopAndDrop();
  });
  const hostToken = (claims: Record<string, unknown>, alg: "HS256" | "HS512" = "HS256", secret = HOST_SECRET) =>
    sign({ iss: "https://host.example", aud: "chat", iat: now(), exp: now() + 600, ...claims }, secret, alg);

  test("login is 403 LOGIN_DISABLED", async () => {
    const r = await api(s, "POST", "/api/auth/login", { body: { email: "a@example.com", name: "A" } });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe("LOGIN_DISABLED");
  });

  test("a host token is accepted on REST; the user is created from its claims, then updated when they change", async () => {
    const t1 = await hostToken({ mail: "Grace@Example.com", name: "Grace", picture: "https://img.example/g.png" });
    const me = await api(s, "GET", "/api/users/me", { token: t1 });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email: "grace@example.com", name: "Grace", profile_image: "https://img.example/g.png" });
    const t2 = await hostToken({ mail: "grace@example.com", name: "Grace Hopper" }, "HS512");
    expect((await api(s, "GET", "/api/users/me", { token: t2 })).body.name).toBe("Grace Hopper");
  });

  test("and on sockets", async () => {
    const t = await hostToken({ mail: "linus@example.com", name: "Linus" });
    const c = await connectAs(s, t, "websocket");
    expect(await request(c, "get_online_users")).toMatchObject({ ok: true, users: [] });
  });

  test.each([
    ["wrong issuer", { mail: "x@example.com", iss: "https://evil.example" }],
    ["wrong audience", { mail: "x@example.com", aud: "other" }],
    ["no email claim", { email: "x@example.com" }],
    ["no exp", { mail: "x@example.com", exp: undefined }],
    ["expired", { mail: "x@example.com", exp: now() - 10 }],
  ])("%s → 401 on REST and connect_error on sockets", async (_n, claims) => {
    const t = await hostToken(claims);
    expect((await api(s, "GET", "/api/users/me", { token: t })).status).toBe(401);
    await expect(connectAs(s, t, "websocket")).rejects.toMatchObject({ data: { code: "UNAUTHORIZED" } });
  });

  test("a token signed with another secret, or one of this server's own tokens, is refused", async () => {
    expect((await api(s, "GET", "/api/users/me", { token: await hostToken({ mail: "x@example.com" }, "HS256", "y".repeat(48)) })).status).toBe(401);
    const own = await sign({ sub: "x@example.com", iat: now(), exp: now() + 60 }, s.cfg.JWT_SECRET_KEY, "HS256");
    expect((await api(s, "GET", "/api/users/me", { token: own })).status).toBe(401);
  });
});
