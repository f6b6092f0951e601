/**
 * /docs in Debian's Chromium with every request that does not go to our own
 * server aborted (as on a machine without internet): Swagger UI must render
 * every path of /openapi.json, with no blocked request and no CSP violation.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const CHROMIUM = "/usr/bin/chromium";

let s: TestServer;
let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error("chromium missing: `apt-get install chromium` (.ci/run does it)");
  s = await startTestServer("docsoffline");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
});
afterAll(async () => {
  await browser?.close();
  await s?.stopAndDrop();
});

test("/docs renders every REST path with all other network access blocked", async () => {
  const spec = (await (await fetch(`${s.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
  const paths = Object.keys(spec.paths);
  expect(paths.length).toBeGreaterThan(5);

  const context = await browser.newContext();
  const blocked: string[] = [];
  const origin = new URL(s.url).origin;
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin || url.startsWith("data:")) return route.continue();
    blocked.push(url);
    return route.abort("internetdisconnected");
  });
  const tab = await context.newPage();
  const problems: string[] = [];
  tab.on("console", (m) => {
    if (m.type() === "error") problems.push(m.text());
  });
  tab.on("pageerror", (e) => problems.push(e.message));

  const res = await tab.goto(`${s.url}/docs`);
  expect(res?.status()).toBe(200);
  expect(res?.headers()["content-security-policy"]).toContain("default-src 'none'");
  await tab.waitForSelector(`.opblock-summary-path >> nth=${paths.length - 1}`, { timeout: 20_000 });
  const rendered = await tab.$$eval(".opblock-summary-path", (els) => els.map((e) => e.getAttribute("data-path")));
  for (const p of paths) expect(rendered).toContain(p);
  expect(await tab.getAttribute('a[href="/asyncapi.json"]', "href")).toBe("/asyncapi.json");
  expect(blocked).toEqual([]);
  expect(problems).toEqual([]);
  await context.close();
}, 60_000);

test("docs assets are a fixed list: nothing else of the package or the disk is served", async () => {
  expect((await fetch(`${s.url}/docs/assets/swagger-ui-bundle.js`)).status).toBe(200);
  expect((await fetch(`${s.url}/docs/assets/package.json`)).status).toBe(404);
  expect((await fetch(`${s.url}/docs/assets/..%2F..%2Fpackage.json`)).status).toBe(404);
});
