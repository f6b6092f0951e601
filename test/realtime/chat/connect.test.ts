import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { sign } from "hono/jwt";
import { login, type TestUser } from "../../helpers/api.ts";
import { closeAllClients, connectAs, request, TRANSPORT_MODES } from "../../helpers/clients.ts";
import { startTestServer, type TestServer } from "../../helpers/server.ts";

let s: TestServer;
let ada: TestUser;
beforeAll(async () => {
  s = await startTestServer("connect");
  ada = await login(s, "ada@example.com", "Ada");
});
afterEach(closeAllClients);
afterAll(() => s.stopAndDrop());

for (const mode of TRANSPORT_MODES) {
  describe(`connection auth (${mode})`, () => {
    test("a valid token in auth connects", async () => {
      const c = await connectAs(s, ada.token, mode);
      expect(c.connected).toBe(true);
      expect((await request(c, "get_online_users")).ok).toBe(true);
    });

    test("missing, garbage, expired and wrongly signed tokens get connect_error unauthorized", async () => {
      const now = Math.floor(Date.now() / 1000);
      const bad = [
        undefined,
        "garbage",
        await sign({ sub: ada.email, exp: now - 1 }, s.cfg.JWT_SECRET_KEY, "HS256"),
        await sign({ sub: ada.email, exp: now + 60 }, "y".repeat(40), "HS256"),
        await sign({ sub: "stranger@example.com", exp: now + 60 }, s.cfg.JWT_SECRET_KEY, "HS256"),
      ];
      for (const token of bad) {
        const err = await connectAs(s, token, mode).then(
          () => null,
          (e: Error & { data?: { code?: string } }) => e,
        );
        expect(err?.message).toBe("unauthorized");
        expect(err?.data?.code).toBe("UNAUTHORIZED");
      }
    });
  });
}

test("the token may also come as ?token= or an Authorization header", async () => {
  const byQuery = await connectAs(s, undefined, "websocket", { query: { token: ada.token } });
  expect(byQuery.connected).toBe(true);
  const byHeader = await connectAs(s, undefined, "default", { extraHeaders: { authorization: `Bearer ${ada.token}` } });
  expect(byHeader.connected).toBe(true);
});
