/**
 * The official browser bundle of socket.io-client in a real Chromium (Debian's
 * package, driven by playwright-core): a page on another origin logs in over
 * REST (CORS), connects with default transports (polling, then websocket),
 * sends a message and receives it back live.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { login } from "../helpers/api.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const CHROMIUM = "/usr/bin/chromium";
const bundle = resolve(import.meta.dir, "../../node_modules/socket.io-client/dist/socket.io.min.js");

let s: TestServer;
let page: ReturnType<typeof Bun.serve>;
let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error("chromium missing: `apt-get install chromium` (.ci/run does it)");
  // The page is served from its own origin, which the chat server must allow (CORS).
  page = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/socket.io.min.js") return new Response(Bun.file(bundle), { headers: { "content-type": "text/javascript" } });
      return new Response('<!doctype html><html><head><script src="/socket.io.min.js"></script></head><body>chat</body></html>', {
        headers: { "content-type": "text/html" },
      });
    },
  });
  s = await startTestServer("browser", { CORS_ORIGINS: `http://127.0.0.1:${page.port}` });
  await login(s, "bob@example.com", "Bob");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
});
afterAll(async () => {
  await browser?.close();
  page?.stop(true);
  await s?.stopAndDrop();
});

test("a browser page chats through the official client bundle, upgrading from polling to websocket", async () => {
  const tab = await browser.newPage();
  await tab.goto(`http://127.0.0.1:${page.port}/`);
  const result = await tab.evaluate(async (base: string) => {
    const res = await fetch(`${base}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "ada@example.com", name: "Ada" }),
    });
    const { access_token } = (await res.json()) as { access_token: string };
    // @ts-expect-error: `io` is the global of the official browser bundle
    const socket = io(base, { auth: { token: access_token } });
    // The manager opens its engine synchronously: this is the transport the client starts on. The
    // upgrade may complete before or after "connect", so listen for it from the start.
    const firstTransport = socket.io.engine.transport.name;
    const upgraded = new Promise((ok) => {
      socket.io.engine.once("upgrade", () => ok(true));
      setTimeout(() => ok(socket.io.engine.transport.name === "websocket"), 10_000);
    });
    await new Promise<void>((ok, fail) => {
      socket.once("connect", () => ok());
      socket.once("connect_error", (e: Error) => fail(e));
    });
    const live = new Promise((ok) => socket.once("new_message", ok));
    const ack = await socket.timeout(5000).emitWithAck("send_message", { to_email: "bob@example.com", message: "from the browser" });
    const received = await live;
    const didUpgrade = await upgraded;
    socket.disconnect();
    return { firstTransport, ack, received, upgraded: didUpgrade };
  }, s.url);
  expect(result.firstTransport).toBe("polling");
  expect(result.upgraded).toBe(true);
  expect(result.ack).toMatchObject({ ok: true, message: { message: "from the browser", sender_email: "ada@example.com" } });
  expect(result.received).toMatchObject({ message: "from the browser" });
  await tab.close();
}, 60_000);

test("a page from an origin that is not allowed cannot read the REST API", async () => {
  const tab = await browser.newPage();
  await tab.goto(`http://localhost:${page.port}/`); // same page, but an origin the server does not list
  const outcome = await tab.evaluate(async (otherBase: string) => {
    try {
      await fetch(`${otherBase}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      return "readable";
    } catch {
      return "blocked";
    }
  }, s.url);
  expect(outcome).toBe("blocked");
  await tab.close();
}, 30_000);
