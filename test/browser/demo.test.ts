/**
 * /demo in Debian's Chromium: two pages (two users) go through a whole
 * conversation with every network request outside this server blocked —
 * sign in, start a chat, unread badge, history paging on scroll, online dot,
 * typing indicator, reply, read mark — and save screenshots.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { api, login } from "../helpers/api.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOTS = join(tmpdir(), "chat-demo-screenshots");

let s: TestServer;
let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error("chromium missing: `apt-get install chromium` (.ci/run does it)");
  mkdirSync(SCREENSHOTS, { recursive: true });
  s = await startTestServer("demo");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
});
afterAll(async () => {
  await browser?.close();
  await s?.stopAndDrop();
});

async function signIn(email: string, name: string, problems: string[]): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 900, height: 600 } });
  const origin = new URL(s.url).origin;
  await context.route("**/*", (route) => (new URL(route.request().url()).origin === origin ? route.continue() : route.abort()));
  const page = await context.newPage();
  page.on("pageerror", (e) => problems.push(e.message));
  page.on("console", (m) => void (m.type() === "error" && problems.push(m.text())));
  await page.goto(`${s.url}/demo`);
  await page.fill('#login-form input[name="email"]', email);
  await page.fill('#login-form input[name="name"]', name);
  await page.click("#login-form button");
  await page.waitForSelector("#chat:not([hidden])");
  await page.waitForFunction(() => (globalThis as any).document.getElementById("status").textContent === "online");
  return page;
}

test("two users chat through the demo page", async () => {
  const problems: string[] = [];
  const alice = await signIn("alice@example.com", "Alice", problems);
  const bob = await signIn("bob@example.com", "Bob", problems);

  // Alice starts the conversation by email; 40 earlier messages (over REST) make history pages.
  await alice.fill("#new-email", "bob@example.com");
  await alice.press("#new-email", "Enter");
  await alice.waitForSelector("#title:has-text('bob@example.com')");
  const { token } = await login(s, "alice@example.com", "Alice");
  const earlier = await Promise.all(
    Array.from({ length: 40 }, (_, i) => api(s, "POST", "/api/messages/send", { token, body: { to_email: "bob@example.com", message: `earlier ${i + 1}` } })),
  );
  expect(earlier.map((r) => r.status)).toEqual(Array(40).fill(201));
  await alice.fill("#text", "Hello Bob, lunch?");
  await alice.press("#text", "Enter");
  await alice.waitForSelector(".msg.mine:has-text('Hello Bob, lunch?')");

  // Bob: the conversation with its unread badge and Alice's online dot.
  await bob.waitForSelector(".conv:has(.badge:text-is('41'))");
  await bob.waitForSelector(".conv .dot.online");
  await bob.screenshot({ path: join(SCREENSHOTS, "bob-list.png") });
  await bob.click(".conv");
  await bob.waitForSelector(".msg.theirs:has-text('Hello Bob, lunch?')");
  expect(await bob.locator(".msg").count()).toBe(30);
  await bob.locator("#history").evaluate((el) => (el.scrollTop = 0));
  // Scrolled to the top: the older page is loaded above (all 41 messages now).
  await bob.waitForFunction(() => (globalThis as any).document.querySelectorAll(".msg").length === 41);
  await bob.waitForSelector(".msg:text-is('earlier 1'), .msg:has(.text:text-is('earlier 1'))");
  await bob.waitForSelector(".conv:not(:has(.badge))");

  // Alice sees the read mark, then Bob typing, then his reply.
  await alice.waitForSelector(".msg.mine:has-text('Hello Bob, lunch?') .meta:has-text('read')");
  await bob.click("#text");
  await bob.keyboard.type("Sure, ", { delay: 20 });
  await alice.waitForSelector("#typing:has-text('typing')");
  await bob.keyboard.type("12:30?");
  await bob.press("#text", "Enter");
  await alice.waitForSelector(".msg.theirs:has-text('Sure, 12:30?')");
  await alice.waitForSelector("#typing:text-is('')");
  await bob.waitForSelector(".msg.mine:has-text('Sure, 12:30?')");

  await alice.screenshot({ path: join(SCREENSHOTS, "alice.png") });
  await bob.screenshot({ path: join(SCREENSHOTS, "bob.png") });
  expect(problems).toEqual([]);
}, 90_000);

test("the demo is off in production unless DEMO_ENABLED=true", async () => {
  const prod = await startTestServer("demoprod", { NODE_ENV: "production", AUTH_MODE: "trusted", AUTH_API_KEYS: "k".repeat(32) });
  try {
    expect((await fetch(`${prod.url}/demo`)).status).toBe(404);
  } finally {
    await prod.stopAndDrop();
  }
});
