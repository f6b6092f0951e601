/**
 * GET /asyncapi.json: the Socket.IO events (see asyncapi.ts).
 * GET /docs: Swagger UI for /openapi.json, with every asset served by this
 * server from the swagger-ui-dist package, so the page works on a machine
 * without internet access. A strict Content-Security-Policy allows only our
 * own origin (plus data: images, which Swagger UI's stylesheet inlines); the
 * page script is a file, not inline, so no 'unsafe-inline' is needed.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Hono } from "hono";
import { buildAsyncApiDocument } from "./asyncapi.ts";

const swaggerDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Only these files are served: nothing else of the package (or the disk) is reachable. */
const ASSETS: Record<string, { file: string; type: string }> = {
  "swagger-ui.css": { file: join(swaggerDir, "swagger-ui.css"), type: "text/css; charset=utf-8" },
  "swagger-ui-bundle.js": { file: join(swaggerDir, "swagger-ui-bundle.js"), type: "text/javascript; charset=utf-8" },
  "favicon-32x32.png": { file: join(swaggerDir, "favicon-32x32.png"), type: "image/png" },
  "docs.js": { file: join(import.meta.dir, "docs-page.js"), type: "text/javascript; charset=utf-8" },
  "docs.css": { file: join(import.meta.dir, "docs-page.css"), type: "text/css; charset=utf-8" },
};

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chat backend API</title>
<link rel="icon" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="stylesheet" href="/docs/assets/docs.css">
</head>
<body>
<nav class="docs-links">
  REST: <a href="/openapi.json">OpenAPI 3.1 (/openapi.json)</a> ·
  Socket.IO events: <a href="/asyncapi.json">AsyncAPI 3.0 (/asyncapi.json)</a>
</nav>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/docs.js"></script>
</body>
</html>
`;

const secured = (type: string, cache: string) => ({
  "content-type": type,
  "content-security-policy": DOCS_CSP,
  "x-content-type-options": "nosniff",
  "cache-control": cache,
});

export function docsRoutes(o: { version: string; messageMaxLength: number }) {
  return new Hono()
    .get("/asyncapi.json", (c) => {
      const url = new URL(c.req.url);
      return c.json(buildAsyncApiDocument({ ...o, host: c.req.header("host") ?? url.host, secure: url.protocol === "https:" }));
    })
    .get("/docs", (c) => c.body(page, 200, secured("text/html; charset=utf-8", "no-cache")))
    .get("/docs/assets/:name", (c) => {
      const asset = Object.hasOwn(ASSETS, c.req.param("name")) ? ASSETS[c.req.param("name")] : undefined;
      if (!asset) return c.notFound();
      return new Response(Bun.file(asset.file), { headers: secured(asset.type, "public, max-age=3600") });
    });
}
