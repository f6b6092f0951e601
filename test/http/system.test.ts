import { afterAll, beforeAll, expect, test } from "bun:test";
import { validate } from "@readme/openapi-parser";
import { api, login } from "../helpers/api.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer("system");
});
afterAll(() => s.stopAndDrop());

test("GET / describes the service", async () => {
  const r = await api(s, "GET", "/");
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ name: "chat-backend", docs: "/docs", openapi: "/openapi.json" });
});

test("GET /health reports the database up", async () => {
  const r = await api(s, "GET", "/health");
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ status: "ok", database: "up" });
});

test("unknown routes get a JSON 404 (under /api, after authentication)", async () => {
  const r = await api(s, "GET", "/nope");
  expect(r.status).toBe(404);
  expect(r.body.error.code).toBe("NOT_FOUND");
  expect((await api(s, "GET", "/api/nope")).status).toBe(401);
  const { token } = await login(s, "someone@example.com");
  const authed = await api(s, "GET", "/api/nope", { token });
  expect(authed.status).toBe(404);
  expect(authed.body.error.code).toBe("NOT_FOUND");
});

test("/openapi.json is a valid OpenAPI 3.1 document listing every endpoint, the bearer scheme and error responses", async () => {
  const r = await api(s, "GET", "/openapi.json");
  expect(r.status).toBe(200);
  const result = await validate(structuredClone(r.body));
  expect(result.valid ? [] : result.errors).toEqual([]);
  const paths = Object.keys(r.body.paths);
  for (const p of [
    "/api/auth/login",
    "/api/auth/logout",
    "/api/users/me",
    "/api/users/search",
    "/api/conversations",
    "/api/conversations/start",
    "/api/conversations/{conversation_id}/messages",
    "/api/conversations/{conversation_id}/mark-read",
    "/api/messages/send",
    "/api/conversations/{conversation_id}",
    "/api/conversations/{conversation_id}/members",
    "/api/conversations/{conversation_id}/members/{email}",
    "/api/conversations/{conversation_id}/leave",
    "/api/conversations/{conversation_id}/read-state",
    "/api/messages/{message_id}",
    "/api/messages/{message_id}/reactions/{emoji}",
    "/health",
    "/",
  ]) {
    expect(paths).toContain(p);
  }
  expect(r.body.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
  expect(Object.keys(r.body.paths["/api/messages/send"].post.responses)).toEqual(expect.arrayContaining(["201", "401", "404", "422"]));
  expect(r.body.components.schemas.Error).toBeDefined();
  // Groups and the message lifecycle: every route and schema, with the role refusal where a role is needed.
  expect(Object.keys(r.body.paths["/api/conversations"])).toEqual(expect.arrayContaining(["get", "post"]));
  expect(Object.keys(r.body.paths["/api/conversations/{conversation_id}/members/{email}"])).toEqual(expect.arrayContaining(["delete", "patch"]));
  expect(Object.keys(r.body.paths["/api/messages/{message_id}"])).toEqual(expect.arrayContaining(["patch", "delete"]));
  expect(Object.keys(r.body.paths["/api/messages/{message_id}/reactions/{emoji}"])).toEqual(expect.arrayContaining(["put", "delete"]));
  expect(Object.keys(r.body.paths["/api/conversations/{conversation_id}"].patch.responses)).toEqual(expect.arrayContaining(["200", "403", "404", "422"]));
  for (const name of ["CreateGroupRequest", "UpdateGroupRequest", "AddMembersRequest", "SetRoleRequest", "EditMessageRequest", "MarkReadRequest", "ReadState"]) {
    expect(r.body.components.schemas[name]).toBeDefined();
  }
  // The identity and limit errors are declared where they can happen.
  const login = r.body.paths["/api/auth/login"].post.responses;
  expect(Object.keys(login)).toEqual(expect.arrayContaining(["200", "401", "403", "429"]));
  expect(Object.keys(login["429"].headers)).toEqual(expect.arrayContaining(["Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]));
  expect(Object.keys(r.body.paths["/api/auth/logout"].post.responses)).toEqual(expect.arrayContaining(["204", "401"]));
  expect(Object.keys(r.body.paths["/api/users/me"].patch.responses)).toEqual(expect.arrayContaining(["200", "401", "422", "429"]));
  expect(Object.keys(r.body.paths["/api/users/search"].get.responses)).toContain("429");
  expect(r.body.paths["/api/users/search"].get.responses["200"].content["application/json"].schema.items.$ref).toBe("#/components/schemas/PublicUser");
});

test("/docs serves the interactive UI", async () => {
  const res = await s.app.request("/docs");
  expect(res.status).toBe(200);
  expect(await res.text()).toContain("swagger");
});

test("CORS: allowed origin gets the headers, preflight answers", async () => {
  const res = await s.app.request("/api/conversations", {
    method: "OPTIONS",
    headers: { origin: "http://localhost:3000", "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
  });
  expect(res.status).toBe(204);
  expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
  const other = await s.app.request("/", { headers: { origin: "https://evil.example" } });
  expect(other.headers.get("access-control-allow-origin")).toBeNull();
});
