/**
 * AUTH_MODE=jwt with AUTH_JWKS_URL: the host's keys served from a loopback HTTP server.
 * RS256, ES256 and EdDSA; rotation (a new kid is fetched on first sight, a removed key stops working).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { sign } from "hono/jwt";
import { api } from "../helpers/api.ts";
import { closeAllClients, connectAs, request } from "../helpers/clients.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { waitUntil } from "../helpers/wait.ts";

type Alg = "RS256" | "ES256" | "EdDSA";
const PARAMS: Record<Alg, Record<string, unknown>> = {
  RS256: { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
  ES256: { name: "ECDSA", namedCurve: "P-256" },
  EdDSA: { name: "Ed25519" },
};

async function keyPair(alg: Alg, kid: string) {
  const pair = (await crypto.subtle.generateKey(PARAMS[alg] as never, true, ["sign", "verify"])) as CryptoKeyPair;
  const priv = { ...(await crypto.subtle.exportKey("jwk", pair.privateKey)), kid, alg };
  const pub = { ...(await crypto.subtle.exportKey("jwk", pair.publicKey)), kid, alg, use: "sig" };
  return { priv, pub };
}

let published: object[] = [];
let fetches = 0;
const keyServer = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch() {
    fetches++;
    return Response.json({ keys: published });
  },
});
let s: TestServer;
const keys: Record<string, Awaited<ReturnType<typeof keyPair>>> = {};
const now = () => Math.floor(Date.now() / 1000);
const tokenFrom = (kid: string, email: string) => sign({ email, name: email.split("@")[0], iat: now(), exp: now() + 600 }, keys[kid]!.priv as never);

beforeAll(async () => {
  keys.rsa1 = await keyPair("RS256", "rsa1");
  keys.ec1 = await keyPair("ES256", "ec1");
  keys.ed1 = await keyPair("EdDSA", "ed1");
  keys.rsa2 = await keyPair("RS256", "rsa2");
  published = [keys.rsa1.pub, keys.ec1.pub, keys.ed1.pub];
  s = await startTestServer("jwks", { AUTH_MODE: "jwt", AUTH_JWKS_URL: `http://127.0.0.1:${keyServer.port}/jwks.json` });
});
afterAll(async () => {
  closeAllClients();
  await s.stopAndDrop();
  keyServer.stop(true);
});

test.each(["rsa1", "ec1", "ed1"])("a token signed with %s is accepted on REST and sockets; keys are cached", async (kid) => {
  const email = `${kid}@example.com`;
  const t = await tokenFrom(kid, email);
  const me = await api(s, "GET", "/api/users/me", { token: t });
  expect(me.status).toBe(200);
  expect(me.body).toMatchObject({ email, name: kid });
  const c = await connectAs(s, t, "websocket");
  expect(await request(c, "get_online_users")).toMatchObject({ ok: true });
  expect(fetches).toBe(1);
});

test("an unknown kid or a key not in the set is refused", async () => {
  const stranger = await keyPair("RS256", "rsa1"); // same kid, other key
  const forged = await sign({ email: "x@example.com", exp: now() + 60 }, stranger.priv as never);
  expect((await api(s, "GET", "/api/users/me", { token: forged })).status).toBe(401);
  const hmac = await sign({ email: "x@example.com", exp: now() + 60 }, "s".repeat(40), "HS256");
  expect((await api(s, "GET", "/api/users/me", { token: hmac })).status).toBe(401);
});

test("rotation: a new kid is fetched on first sight; a key taken out of the set stops working at the next refetch", async () => {
  published = [keys.rsa2!.pub, keys.ec1!.pub];
  const t = await tokenFrom("rsa2", "rotated@example.com");
  // Unknown kids refetch at most once a second: the first try may fall inside that cooldown.
  await waitUntil(async () => (await api(s, "GET", "/api/users/me", { token: t })).status === 200, 3000, "the rotated key to be fetched");
  const old = await tokenFrom("rsa1", "rsa1@example.com");
  expect((await api(s, "GET", "/api/users/me", { token: old })).status).toBe(401);
});

test("an unreachable key server means 401, not a hang", async () => {
  const dead = await startTestServer("jwksdead", { AUTH_MODE: "jwt", AUTH_JWKS_URL: "http://127.0.0.1:9/jwks.json", AUTH_JWKS_TIMEOUT_MS: "500" });
  try {
    const r = await api(dead, "GET", "/api/users/me", { token: await tokenFrom("ec1", "x@example.com") });
    expect(r.status).toBe(401);
  } finally {
    await dead.stopAndDrop();
  }
});
