import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sign } from "hono/jwt";
import { api, login } from "../helpers/api.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer("auth");
});
afterAll(() => s.stopAndDrop());

describe("POST /api/auth/login", () => {
  test("registers on first login and returns a bearer token and the user", async () => {
    const r = await api(s, "POST", "/api/auth/login", {
      body: { email: "  Ada@Example.com ", name: "Ada", profile_image: "https://img.example/ada.png" },
    });
    expect(r.status).toBe(200);
    expect(r.body.token_type).toBe("bearer");
    expect(typeof r.body.access_token).toBe("string");
    expect(r.body.user).toMatchObject({ email: "ada@example.com", name: "Ada", profile_image: "https://img.example/ada.png" });
    const me = await api(s, "GET", "/api/users/me", { token: r.body.access_token });
    expect(me.status).toBe(200);
    expect(me.body.email).toBe("ada@example.com");
  });

  test("open mode: a login for an existing email (any letter case) changes neither name nor image; PATCH /api/users/me does", async () => {
    const first = await login(s, "keep@example.com", "Old");
    await api(s, "POST", "/api/auth/login", { body: { email: "KEEP@example.com", name: "Mallory", profile_image: "https://evil.example/p.png" } });
    const r = await api(s, "POST", "/api/auth/login", { body: { email: "keep@example.com", name: "New" } });
    expect(r.body.user).toMatchObject({ name: "Old", profile_image: null });
    const patched = await api(s, "PATCH", "/api/users/me", { token: first.token, body: { name: "Renamed", profile_image: "https://x.example/p.png" } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: "Renamed", profile_image: "https://x.example/p.png" });
    expect((await api(s, "PATCH", "/api/users/me", { token: first.token, body: {} })).status).toBe(422);
  });

  test("our tokens carry jti and iat; each login gets a fresh jti", async () => {
    const a = await login(s, "jti@example.com");
    const b = await login(s, "jti@example.com");
    const claims = (t: string) => JSON.parse(Buffer.from(t.split(".")[1]!, "base64url").toString());
    expect(typeof claims(a.token).jti).toBe("string");
    expect(claims(a.token).jti).not.toBe(claims(b.token).jti);
    expect(claims(a.token).exp - claims(a.token).iat).toBe(s.cfg.JWT_EXPIRE_MINUTES * 60);
  });

  test("a token whose exp lies beyond JWT_EXPIRE_MINUTES from its iat is refused", async () => {
    await login(s, "long@example.com");
    const now = Math.floor(Date.now() / 1000);
    const long = await sign({ sub: "long@example.com", iat: now, exp: now + s.cfg.JWT_EXPIRE_MINUTES * 60 + 60, jti: "x" }, s.cfg.JWT_SECRET_KEY, "HS256");
    expect((await api(s, "GET", "/api/users/me", { token: long })).status).toBe(401);
    const ok = await sign({ sub: "long@example.com", iat: now, exp: now + 60, jti: "y" }, s.cfg.JWT_SECRET_KEY, "HS256");
    expect((await api(s, "GET", "/api/users/me", { token: ok })).status).toBe(200);
  });

  test.each([
    ["missing email", { name: "x" }],
    ["bad email", { email: "not-an-email", name: "x" }],
    ["email as object", { email: { $ne: "" }, name: "x" }],
    ["empty name", { email: "a@b.co", name: "" }],
    ["profile_image not a url", { email: "a@b.co", name: "x", profile_image: "javascript:alert(1)x" }],
  ])("%s → 422 with details", async (_n, body) => {
    const r = await api(s, "POST", "/api/auth/login", { body });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe("VALIDATION_FAILED");
    expect(Array.isArray(r.body.error.details)).toBe(true);
  });

  test("malformed JSON → 400 JSON", async () => {
    const r = await api(s, "POST", "/api/auth/login", { rawBody: '{"email": ' });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("BAD_REQUEST");
  });

  test("a JSON array or a non-JSON content type is refused", async () => {
    expect((await api(s, "POST", "/api/auth/login", { rawBody: "[]" })).status).toBe(422);
    const r = await api(s, "POST", "/api/auth/login", { rawBody: "email=a@b.co", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
  });
});

describe("401 on protected routes", () => {
  const now = () => Math.floor(Date.now() / 1000);
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const secret = () => s.cfg.JWT_SECRET_KEY;

  const cases: [string, () => Promise<Record<string, string>>][] = [
    ["no header", async () => ({})],
    ["not bearer", async () => ({ authorization: "Basic YWxhZGRpbjpvcGVuc2VzYW1l" })],
    ["garbage", async () => ({ authorization: "Bearer garbage" })],
    ["expired", async () => ({ authorization: `Bearer ${await sign({ sub: "ada@example.com", exp: now() - 5 }, secret(), "HS256")}` })],
    ["wrong signature", async () => ({ authorization: `Bearer ${await sign({ sub: "ada@example.com", exp: now() + 60 }, "x".repeat(40), "HS256")}` })],
    ["alg none", async () => ({ authorization: `Bearer ${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "ada@example.com", exp: now() + 60 })}.` })],
    [
      "tampered payload",
      async () => {
        const good = await sign({ sub: "ada@example.com", exp: now() + 60 }, secret(), "HS256");
        const [h, , sig] = good.split(".");
        return { authorization: `Bearer ${h}.${b64({ sub: "eve@example.com", exp: now() + 60 })}.${sig}` };
      },
    ],
  ];

  for (const [name, headers] of cases) {
    test(`${name} → 401 JSON on every protected route`, async () => {
      const h = await headers();
      for (const [method, path] of [
        ["GET", "/api/users/me"],
        ["GET", "/api/users/search?query=a"],
        ["GET", "/api/conversations"],
        ["POST", "/api/conversations/start"],
        ["GET", "/api/conversations/65f1c0ffee0123456789abcd/messages"],
        ["POST", "/api/conversations/65f1c0ffee0123456789abcd/mark-read"],
        ["POST", "/api/messages/send"],
      ] as const) {
        const r = await api(s, method, path, { headers: h, body: method === "POST" ? {} : undefined });
        expect(r.status, `${method} ${path}`).toBe(401);
        expect(r.body.error.code).toBe("UNAUTHORIZED");
      }
    });
  }
});
