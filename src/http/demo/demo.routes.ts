/**
 * GET /demo: a small single-page chat client served by this server (no CDN):
 * client/app.ts bundled with socket.io-client by Bun.build on the first
 * request, under the same own-origin-only Content-Security-Policy as /docs.
 */
import { join } from "node:path";
import { Hono } from "hono";
import { DOCS_CSP } from "../docs/docs.routes.ts";

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chat demo</title>
<link rel="stylesheet" href="/demo/app.css">
</head>
<body>
<section id="login">
  <h1>Chat demo</h1>
  <form id="login-form">
    <label>Email <input name="email" type="email" required autocomplete="username"></label>
    <label>Name <input name="name" required></label>
    <button>Sign in</button>
  </form>
  <form id="token-form">
    <label>…or paste an access token <textarea name="token" rows="3" required></textarea></label>
    <button>Use token</button>
  </form>
  <p id="login-error"></p>
</section>
<div id="chat" hidden>
  <aside>
    <div id="me"></div>
    <div id="status"></div>
    <form id="new-form"><input id="new-email" type="email" placeholder="Start a chat with (email)" required></form>
    <ul id="convs"></ul>
  </aside>
  <main>
    <header id="title"></header>
    <div id="history"></div>
    <div id="typing"></div>
    <form id="composer" hidden><input id="text" autocomplete="off" placeholder="Message"><button>Send</button></form>
  </main>
</div>
<script type="module" src="/demo/app.js"></script>
</body>
</html>
`;

let bundle: Promise<string> | undefined;
async function build(): Promise<string> {
  const out = await Bun.build({ entrypoints: [join(import.meta.dir, "client/app.ts")], target: "browser", minify: true });
  if (!out.success || !out.outputs[0]) throw new Error(`demo bundle failed: ${out.logs.map(String).join("; ")}`);
  return out.outputs[0].text();
}

const headers = (type: string) => ({ "content-type": type, "content-security-policy": DOCS_CSP, "x-content-type-options": "nosniff", "cache-control": "no-cache" });

export function demoRoutes() {
  return new Hono()
    .get("/demo", (c) => c.body(page, 200, headers("text/html; charset=utf-8")))
    .get("/demo/app.css", () => new Response(Bun.file(join(import.meta.dir, "client/app.css")), { headers: headers("text/css; charset=utf-8") }))
    .get("/demo/app.js", async (c) => {
      bundle ??= build().catch((err: unknown) => {
        bundle = undefined;
        throw err;
      });
      return c.body(await bundle, 200, headers("text/javascript; charset=utf-8"));
    });
}
