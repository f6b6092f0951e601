import { afterAll, beforeAll, expect, test } from "bun:test";
import { api, login, type TestUser } from "../helpers/api.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let s: TestServer;
let ada: TestUser;
beforeAll(async () => {
  s = await startTestServer("users");
  ada = await login(s, "ada@example.com", "Ada Lovelace");
  await login(s, "john.smith@example.com", "John Smith");
  await login(s, "johanna@example.com", "Johanna");
  await login(s, "dot.star@example.com", "a.*b");
});
afterAll(() => s.stopAndDrop());

const search = (q: string, token = ada.token) => api(s, "GET", `/api/users/search?query=${encodeURIComponent(q)}`, { token });

test("GET /api/users/me returns the caller", async () => {
  const r = await api(s, "GET", "/api/users/me", { token: ada.token });
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ email: "ada@example.com", name: "Ada Lovelace", is_online: false });
});

test("search is a case-insensitive substring match on name and email, excluding the caller", async () => {
  const r = await search("JOH");
  expect(r.status).toBe(200);
  expect(r.body.map((u: { email: string }) => u.email).sort()).toEqual(["johanna@example.com", "john.smith@example.com"]);
  expect((await search("smith@EXAMPLE")).body.map((u: { email: string }) => u.email)).toEqual(["john.smith@example.com"]);
  expect((await search("ada")).body).toEqual([]);
});

test("regex characters are matched literally", async () => {
  expect((await search(".*")).body.map((u: { email: string }) => u.email)).toEqual(["dot.star@example.com"]);
  expect((await search("(")).status).toBe(200);
  expect((await search("(")).body).toEqual([]);
  expect((await search("[a-z]+")).body).toEqual([]);
});

test("operator injection through the query string is refused", async () => {
  const r = await api(s, "GET", "/api/users/search?query[$ne]=x", { token: ada.token });
  expect(r.status).toBe(422);
  expect((await api(s, "GET", "/api/users/search", { token: ada.token })).status).toBe(422);
  expect((await search("x".repeat(101))).status).toBe(422);
});

test("limit is capped", async () => {
  expect((await api(s, "GET", "/api/users/search?query=e&limit=1", { token: ada.token })).body.length).toBe(1);
  expect((await api(s, "GET", "/api/users/search?query=e&limit=1000", { token: ada.token })).status).toBe(422);
});

test("search finds by any part of the name or email, including letters outside ASCII and emoji; terms are rebuilt for older data", async () => {
  await login(s, "zoe@example.com", "Zoë 🦊 Ångström");
  expect((await search("ÅNGS")).body.map((u: { email: string }) => u.email)).toEqual(["zoe@example.com"]);
  expect((await search("🦊")).body.map((u: { email: string }) => u.email)).toEqual(["zoe@example.com"]);
  expect((await search("ë 🦊")).body.map((u: { email: string }) => u.email)).toEqual(["zoe@example.com"]);
  // A database from before search terms: rebuilt once at start.
  const { userTerms, meta } = s.db.collections;
  await userTerms.deleteMany({});
  await s.db.collections.users.updateMany({}, { $unset: { terms_name: "" } });
  await meta.deleteMany({ _id: "user_terms_v1" });
  expect((await search("ngstr")).body).toEqual([]);
  const { backfillUserTerms } = await import("../../src/db/user-terms.ts");
  expect(await backfillUserTerms(s.db.collections)).toBe(5);
  expect((await search("ngstr")).body.map((u: { email: string }) => u.email)).toEqual(["zoe@example.com"]);
  expect((await search("smith@EXAMPLE")).body.map((u: { email: string }) => u.email)).toEqual(["john.smith@example.com"]);
});
