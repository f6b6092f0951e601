/**
 * The logger: JSON lines for collectors, one readable coloured line in a
 * development terminal, secrets and message bodies never written, and the
 * request / socket ids on the lines the server writes about them.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createLogger, defaultLogFormat } from "../../src/logger.ts";
import { api, login, type TestUser } from "../helpers/api.ts";
import { closeAllClients, connectAs } from "../helpers/clients.ts";
import { captureLog, type CapturedLog } from "../helpers/log-capture.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { waitUntil } from "../helpers/wait.ts";

function linesOf(format: "json" | "pretty") {
  const out: string[] = [];
  return { out, log: createLogger("info", { format, write: (l) => out.push(l) }) };
}

test("JSON format: one parseable line per entry, errors with name/message/stack, levels filtered", () => {
  const { out, log } = linesOf("json");
  log.debug("hidden");
  log.error("failed", { err: new TypeError("boom"), n: 1 });
  expect(out.length).toBe(1);
  expect(out[0]!.endsWith("\n")).toBe(true);
  const e = JSON.parse(out[0]!);
  expect(e).toMatchObject({ level: "error", msg: "failed", n: 1, err: { name: "TypeError", message: "boom" } });
  expect(e.err.stack).toContain("TypeError");
});

test("tokens, secrets and message bodies are never written, whoever passes them", () => {
  for (const format of ["json", "pretty"] as const) {
    const { out, log } = linesOf(format);
    log.info("oops", { token: "eyJhbGciOi.secret", authorization: "Bearer abc.def", message: "my private text", password: "pw", ok: "kept" });
    expect(out.join("")).not.toMatch(/eyJhbGciOi|abc\.def|private text|"pw"|=pw/);
    expect(out.join("")).toContain("kept");
  }
});

test("pretty format: a single coloured line with the fields as key=value", () => {
  const { out, log } = linesOf("pretty");
  log.warn("slow query", { sid: "abc", ms: 12.5, path: "/api/x y", err: new Error("deep\nmultiline") });
  const line = out[0]!;
  expect(line.split("\n").length).toBe(2); // the line and the empty rest after its newline
  expect(line).toContain("\x1b[33mWARN");
  expect(line).toContain("slow query");
  expect(line).toMatch(/sid=\S*abc/);
  expect(line).toContain('"/api/x y"');
  expect(line).toContain("Error: deep\\nmultiline");
});

test("pretty only in a development terminal; JSON in production or when piped", () => {
  expect(defaultLogFormat("development", true)).toBe("pretty");
  expect(defaultLogFormat("test", true)).toBe("pretty");
  expect(defaultLogFormat("production", true)).toBe("json");
  expect(defaultLogFormat("development", false)).toBe("json");
});

let s: TestServer;
let cap: CapturedLog;
let ada: TestUser;
beforeAll(async () => {
  cap = captureLog();
  s = await startTestServer("logger", {}, undefined, cap.log);
  ada = await login(s, "ada@example.com", "Ada");
  await login(s, "bob@example.com", "Bob");
});
afterAll(async () => {
  closeAllClients();
  await s.stopAndDrop();
});

test("every REST request line carries its request id (the X-Request-Id header), never the query string", async () => {
  const r = await api(s, "GET", "/api/users/search?query=bob", { token: ada.token });
  expect(r.status).toBe(200);
  const id = r.headers.get("x-request-id");
  expect(id).toBeTruthy();
  const line = cap.lines.find((l) => l.msg === "request" && l.req_id === id);
  expect(line).toMatchObject({ method: "GET", path: "/api/users/search", status: 200 });
  expect(cap.raw.join("")).not.toContain("query=bob");
  expect(cap.lines.filter((l) => l.msg === "request").every((l) => typeof l.req_id === "string")).toBe(true);
});

test("socket lifecycle lines carry the socket id; no token or message body in any line", async () => {
  const socket = await connectAs(s, ada.token, "websocket");
  const sid = socket.id;
  const ack = await socket.timeout(5000).emitWithAck("send_message", { to_email: "bob@example.com", message: "a very private sentence" });
  expect(ack.ok).toBe(true);
  socket.disconnect();
  await waitUntil(() => cap.lines.some((l) => l.msg === "socket disconnected"), 5000, "the disconnect line");
  expect(sid).toBeTruthy();
  expect(cap.lines.find((l) => l.msg === "socket connected")).toMatchObject({ sid, transport: "websocket" });
  expect(cap.lines.find((l) => l.msg === "socket disconnected")).toMatchObject({ sid, reason: "client namespace disconnect" });
  const all = cap.raw.join("");
  expect(all).not.toContain(ada.token);
  expect(all).not.toContain("a very private sentence");
});
