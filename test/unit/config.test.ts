import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../../src/config.ts";

describe("loadConfig", () => {
  test("defaults match the specification", () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(8000);
    expect(c.HOST).toBe("0.0.0.0");
    expect(c.DATABASE_NAME).toBe("chat_app");
    expect(c.JWT_ALGORITHM).toBe("HS256");
    expect(c.JWT_EXPIRE_MINUTES).toBe(1440);
    expect(c.MONGODB_URL).toBeUndefined();
    expect(c.MESSAGE_MAX_LENGTH).toBe(10_000);
  });

  test("development without a secret generates a random one and says so", () => {
    const a = loadConfig({});
    const b = loadConfig({});
    expect(a.jwtSecretGenerated).toBe(true);
    expect(a.JWT_SECRET_KEY.length).toBeGreaterThanOrEqual(32);
    expect(a.JWT_SECRET_KEY).not.toBe(b.JWT_SECRET_KEY);
  });

  test("production refuses a missing or short secret", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: "production", JWT_SECRET_KEY: "short" })).toThrow(/JWT_SECRET_KEY/);
    const ok = loadConfig({ NODE_ENV: "production", JWT_SECRET_KEY: "x".repeat(32), AUTH_MODE: "trusted", AUTH_API_KEYS: "k".repeat(32) });
    expect(ok.jwtSecretGenerated).toBe(false);
  });

  test("every bad variable is named at once", () => {
    try {
      loadConfig({ PORT: "70000", JWT_ALGORITHM: "none", MONGODB_URL: "http://x", JWT_EXPIRE_MINUTES: "abc" });
      throw new Error("expected a ConfigError");
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as Error).message;
      for (const v of ["PORT", "JWT_ALGORITHM", "MONGODB_URL", "JWT_EXPIRE_MINUTES"]) expect(msg).toContain(v);
    }
  });

  test("CORS_ORIGINS is a comma list; empty strings count as unset", () => {
    const c = loadConfig({ CORS_ORIGINS: " https://a.example , https://b.example,", PORT: "" });
    expect(c.CORS_ORIGINS).toEqual(["https://a.example", "https://b.example"]);
    expect(c.PORT).toBe(8000);
  });

  test("the secret never appears in the error message", () => {
    try {
      loadConfig({ NODE_ENV: "production", JWT_SECRET_KEY: "tiny-secret-value" });
    } catch (e) {
      expect((e as Error).message).not.toContain("tiny-secret-value");
    }
  });
});
