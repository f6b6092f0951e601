/** A database outage answers socket events with DATABASE_UNAVAILABLE (as REST answers 503), never INTERNAL. */
import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadConfig } from "../../../src/config.ts";
import { startEmbeddedDb } from "../../../src/embedded-db/embedded-db.ts";
import { createLogger } from "../../../src/logger.ts";
import { startServer } from "../../../src/server.ts";
import { api, login } from "../../helpers/api.ts";
import { closeAllClients, connectAs, request } from "../../helpers/clients.ts";
import type { TestServer } from "../../helpers/server.ts";
import { collect } from "../../helpers/wait.ts";

test("socket events during a database outage fail with DATABASE_UNAVAILABLE and the connection stays up", async () => {
  const db = await startEmbeddedDb({ dataDir: mkdtempSync(join(tmpdir(), "chat-sockdown-")), projectRoot: resolve(import.meta.dir, "../../.."), preferFerretDb: true });
  const cfg = loadConfig({ NODE_ENV: "test", HOST: "127.0.0.1", PORT: "0", JWT_SECRET_KEY: "s".repeat(40), LOG_LEVEL: "silent" });
  const server = (await startServer(cfg, db.url, createLogger("silent"))) as TestServer;
  try {
    const ada = await login(server, "ada@example.com", "Ada");
    const bob = await login(server, "bob@example.com", "Bob");
    const c = await connectAs(server, ada.token, "websocket");
    const sent = await request(c, "send_message", { to_email: bob.email, message: "before" });
    expect(sent.ok).toBe(true);
    const errors = collect(c, "error");
    await db.stop();
    const ack = await request(c, "mark_as_read", { conversation_id: sent.message.conversation_id }, 15_000);
    expect(ack).toMatchObject({ ok: false, error: { code: "DATABASE_UNAVAILABLE" } });
    expect(errors).toEqual([expect.objectContaining({ code: "DATABASE_UNAVAILABLE", event: "mark_as_read" })]);
    expect(c.connected).toBe(true);
    expect((await api(server, "GET", "/api/conversations", { token: ada.token })).status).toBe(503);
  } finally {
    closeAllClients();
    await server.stop();
    await db.stop().catch(() => {});
  }
}, 60_000);
