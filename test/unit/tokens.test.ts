import { describe, expect, test } from "bun:test";
import { sign } from "hono/jwt";
import { bearerToken, createTokens } from "../../src/auth/tokens.ts";

const secret = "unit-test-secret-0123456789-0123456789";
const tokens = createTokens({ secret, algorithm: "HS256", expireMinutes: 5 });
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");

describe("tokens", () => {
  test("issue then verify gives the email back", async () => {
    const { token } = await tokens.issue("ada@example.com");
    expect(await tokens.verify(token)).toBe("ada@example.com");
  });

  test.each([
    ["missing", null],
    ["empty", ""],
    ["garbage", "not.a.token"],
    ["huge", "a".repeat(10_000)],
  ])("rejects a %s token", async (_name, t) => {
    await expect(tokens.verify(t)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });

  test("rejects expired, wrongly signed, alg none, other algorithm, no exp, tampered", async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await sign({ sub: "a@x.io", exp: now - 10 }, secret, "HS256");
    const wrongKey = await sign({ sub: "a@x.io", exp: now + 60 }, "another-secret-0123456789-0123456789", "HS256");
    const none = `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "a@x.io", exp: now + 60 })}.`;
    const hs512 = await sign({ sub: "a@x.io", exp: now + 60 }, secret, "HS512");
    const noExp = await sign({ sub: "a@x.io" }, secret, "HS256");
    const good = await sign({ sub: "a@x.io", exp: now + 60 }, secret, "HS256");
    const [h, , s] = good.split(".");
    const tampered = `${h}.${b64({ sub: "admin@x.io", exp: now + 60 })}.${s}`;
    for (const t of [expired, wrongKey, none, hs512, noExp, tampered]) {
      await expect(tokens.verify(t)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    }
  });

  test("a token verified once is still checked for expiry on later uses; a look-alike is never taken from the cache", async () => {
    const now = Math.floor(Date.now() / 1000);
    const soon = await sign({ sub: "a@x.io", exp: now + 1 }, secret, "HS256");
    expect(await tokens.verify(soon)).toBe("a@x.io");
    expect(await tokens.verify(soon)).toBe("a@x.io"); // from the cache
    const [h, , s] = soon.split(".");
    await expect(tokens.verify(`${h}.${b64({ sub: "admin@x.io", exp: now + 1 })}.${s}`)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await Bun.sleep((now + 1) * 1000 - Date.now() + 20);
    await expect(tokens.verify(soon)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });

  test("bearerToken parses the header", () => {
    expect(bearerToken("Bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(bearerToken("bearer   xyz")).toBe("xyz");
    expect(bearerToken("Basic abc")).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });
});
