/**
 * The host's admin user API (X-API-Key): create/update, disable (tokens refused, sockets
 * disconnected, messages kept), re-enable, batch, `user_updated` to contacts, audit lines.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { api, login } from "../helpers/api.ts";
import { closeAllClients, connectAs, request } from "../helpers/clients.ts";
import { captureLog } from "../helpers/log-capture.ts";
import { startTestServer, testMongoUrl, type TestServer } from "../helpers/server.ts";
import { waitFor } from "../helpers/wait.ts";

const KEY = "admin-key-0123456789-0123456789-0123456789";
// A real logger whose lines the audit assertions read back (parsed JSON: msg and the fields beside it).
const { log, lines } = captureLog();

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer("admin", { AUTH_API_KEYS: KEY }, testMongoUrl(), log);
});
afterAll(async () => {
  closeAllClients();
  await s.stopAndDrop();
});

const admin = (method: string, path: string, body?: unknown, key = KEY) => api(s, method, path, { body, headers: key ? { "x-api-key": key } : {} });

describe("admin user API", () => {
  test("the key is required; a user token is not enough", async () => {
    const ada = await login(s, "keyless@example.com", "K");
    expect((await admin("PUT", "/api/admin/users/x@example.com", { name: "X" }, "")).body.error.code).toBe("INVALID_API_KEY");
    expect((await admin("PUT", "/api/admin/users/x@example.com", { name: "X" }, `${KEY}x`)).status).toBe(401);
    const r = await api(s, "PUT", "/api/admin/users/x@example.com", { token: ada.token, body: { name: "X" } });
    expect(r.status).toBe(401);
    expect(lines.some((l) => l.msg === "audit: admin call refused, invalid API key")).toBe(true);
    expect(JSON.stringify(lines)).not.toContain(KEY);
  });

  test("PUT creates (201) then updates (200); input is validated", async () => {
    const created = await admin("PUT", "/api/admin/users/Host.User@Example.com", { name: "Host User", profile_image: "https://img.example/a.png" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email: "host.user@example.com", name: "Host User", profile_image: "https://img.example/a.png", disabled: false });
    const updated = await admin("PUT", "/api/admin/users/host.user@example.com", { name: "Renamed" });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: "Renamed", profile_image: "https://img.example/a.png" });
    expect((await admin("PUT", "/api/admin/users/not-an-email", { name: "X" })).status).toBe(422);
    expect((await admin("PUT", "/api/admin/users/a@example.com", { name: "" })).status).toBe(422);
    expect((await admin("PUT", "/api/admin/users/a@example.com", { name: "A", profile_image: "javascript:x" })).status).toBe(422);
    expect((await admin("PUT", "/api/admin/users/a@example.com", { name: "A", disabled: "yes" })).status).toBe(422);
    expect(lines.some((l) => l.msg === "audit: admin" && l.action === "put_user" && l.email === "host.user@example.com")).toBe(true);
  });

  test("a profile change reaches the contacts as user_updated (admin PUT and PATCH /users/me)", async () => {
    const ada = await login(s, "upd-ada@example.com", "Ada");
    const bob = await login(s, "upd-bob@example.com", "Bob");
    await login(s, "upd-stranger@example.com", "Stranger");
    expect((await api(s, "POST", "/api/messages/send", { token: ada.token, body: { to_email: bob.email, message: "hi" } })).status).toBeLessThan(300);
    const bobSocket = await connectAs(s, bob.token, "websocket");
    const next = waitFor(bobSocket, "user_updated", 5000, "user_updated from admin PUT");
    await admin("PUT", `/api/admin/users/${ada.email}`, { name: "Ada L.", profile_image: "https://img.example/ada.png" });
    expect(await next).toEqual({ email: ada.email, name: "Ada L.", profile_image: "https://img.example/ada.png" });
    const again = waitFor(bobSocket, "user_updated", 5000, "user_updated from PATCH /users/me");
    expect((await api(s, "PATCH", "/api/users/me", { token: ada.token, body: { name: "Ada Lovelace" } })).status).toBe(200);
    expect((await again).name).toBe("Ada Lovelace");
  });

  test("DELETE disables: tokens refused, sockets disconnected, messages stay; PUT disabled:false re-enables", async () => {
    const eve = await login(s, "dis-eve@example.com", "Eve");
    const bob = await login(s, "dis-bob@example.com", "Bob");
    await api(s, "POST", "/api/messages/send", { token: eve.token, body: { to_email: bob.email, message: "kept" } });
    const socket = await connectAs(s, eve.token, "websocket");
    const ended = waitFor(socket, "error", 5000, "error event on disable");
    const gone = waitFor(socket, "disconnect", 5000, "disconnect on disable");
    const r = await admin("DELETE", `/api/admin/users/${eve.email}`);
    expect(r.status).toBe(200);
    expect(r.body.disabled).toBe(true);
    expect((await ended).code).toBe("USER_DISABLED");
    await gone;
    const refused = await api(s, "GET", "/api/users/me", { token: eve.token });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("USER_DISABLED");
    await expect(connectAs(s, eve.token, "websocket")).rejects.toMatchObject({ data: { code: "USER_DISABLED" } });
    expect((await api(s, "POST", "/api/auth/login", { body: { email: eve.email, name: "Eve" } })).body.error.code).toBe("USER_DISABLED");
    // Her messages stay readable by the other participant.
    const convs = await api(s, "GET", "/api/conversations", { token: bob.token });
    const conv = (convs.body as any[]).find((c) => c.participants.includes(eve.email));
    const history = await api(s, "GET", `/api/conversations/${conv.id}/messages`, { token: bob.token });
    expect(JSON.stringify(history.body)).toContain("kept");

    const enabled = await admin("PUT", `/api/admin/users/${eve.email}`, { name: "Eve", disabled: false });
    expect(enabled.body.disabled).toBe(false);
    expect((await api(s, "GET", "/api/users/me", { token: eve.token })).status).toBe(200);
    const c = await connectAs(s, eve.token, "websocket");
    expect(await request(c, "get_online_users")).toMatchObject({ ok: true });
    expect((await admin("DELETE", "/api/admin/users/nobody@example.com")).status).toBe(404);
  });

  test("PUT disabled:true disables too; flag and revocation are stored (loaded again at start)", async () => {
    const zed = await login(s, "dis-zed@example.com", "Zed");
    expect((await admin("PUT", `/api/admin/users/${zed.email}`, { name: "Zed", disabled: true })).body.disabled).toBe(true);
    expect((await api(s, "GET", "/api/users/me", { token: zed.token })).status).toBe(403);
    const stored = await s.db.collections.revocations.findOne({ _id: `user:${zed.email}` });
    expect(stored?.email).toBe(zed.email);
    expect((await s.db.collections.users.findOne({ email: zed.email }))?.disabled).toBe(true);
  });

  test("batch: up to 1,000 users, each validated, results in order", async () => {
    const users = Array.from({ length: 30 }, (_, i) => ({ email: `batch${i}@example.com`, name: `Batch ${i}` }));
    const r = await admin("POST", "/api/admin/users:batch", { users });
    expect(r.status).toBe(200);
    expect(r.body.results.map((x: any) => x.email)).toEqual(users.map((u) => u.email));
    expect(r.body.results.every((x: any) => x.created)).toBe(true);
    const bad = await admin("POST", "/api/admin/users:batch", { users: [{ email: "ok@example.com", name: "Ok" }, { email: "bad", name: "B" }] });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body.error.details)).toContain("users.1.email");
    expect((await api(s, "GET", "/api/users/search?query=ok@", { token: (await login(s, "searcher@example.com", "S")).token })).body).toEqual([]);
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ email: `m${i}@example.com`, name: "M" }));
    expect((await admin("POST", "/api/admin/users:batch", { users: tooMany })).status).toBe(422);
    expect((await admin("POST", "/api/admin/users:batch", { users: [] })).status).toBe(422);
  });

  test("batch: each result's disabled is the stored flag, or what an earlier entry of the batch set", async () => {
    await admin("POST", "/api/admin/users:batch", { users: [{ email: "flag-a@example.com", name: "A" }, { email: "flag-b@example.com", name: "B" }] });
    expect((await admin("DELETE", "/api/admin/users/flag-a@example.com")).status).toBe(200);
    const r = await admin("POST", "/api/admin/users:batch", {
      users: [
        { email: "flag-a@example.com", name: "A2" },
        { email: "flag-b@example.com", name: "B2", disabled: true },
        { email: "flag-b@example.com", name: "B3" },
        { email: "flag-a@example.com", name: "A3", disabled: false },
        { email: "flag-a@example.com", name: "A4" },
        { email: "flag-c@example.com", name: "C" },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.results.map((x: any) => [x.email, x.created, x.user.disabled, x.user.name])).toEqual([
      ["flag-a@example.com", false, true, "A2"],
      ["flag-b@example.com", false, true, "B2"],
      ["flag-b@example.com", false, true, "B3"],
      ["flag-a@example.com", false, false, "A3"],
      ["flag-a@example.com", false, false, "A4"],
      ["flag-c@example.com", true, false, "C"],
    ]);
  });

  test("the OpenAPI document lists the admin routes with the API-key scheme", async () => {
    const doc = (await api(s, "GET", "/openapi.json")).body;
    expect(doc.paths["/api/admin/users/{email}"].put).toBeDefined();
    expect(doc.paths["/api/admin/users/{email}"].delete).toBeDefined();
    expect(doc.paths["/api/admin/users:batch"].post).toBeDefined();
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: "apiKey", name: "X-API-Key" });
  });
});

test("without AUTH_API_KEYS the admin API is off: 403 ADMIN_API_DISABLED", async () => {
  const off = await startTestServer("adminoff");
  try {
    const r = await api(off, "PUT", "/api/admin/users/a@example.com", { body: { name: "A" }, headers: { "x-api-key": KEY } });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe("ADMIN_API_DISABLED");
  } finally {
    await off.stopAndDrop();
  }
});
