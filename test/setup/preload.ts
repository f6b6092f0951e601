/**
 * Runs once per `bun test` process, before any test file: provides a real
 * MongoDB-wire server for the whole run. With MONGODB_URL set, that server is
 * used; otherwise the embedded one (mongod on PATH, else FerretDB) is started
 * in a temporary data directory and dies with this process.
 * Each test file then uses its own database name (see helpers/server.ts).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startEmbeddedDb } from "../../src/embedded-db/embedded-db.ts";

if (!process.env.TEST_MONGODB_URL) {
  if (process.env.MONGODB_URL) {
    process.env.TEST_MONGODB_URL = process.env.MONGODB_URL;
  } else {
    const db = await startEmbeddedDb({
      dataDir: mkdtempSync(join(tmpdir(), "chat-test-db-")),
      projectRoot: resolve(import.meta.dir, "../.."),
      progress: (line) => process.stderr.write(`[test db] ${line}\n`),
    });
    process.env.TEST_MONGODB_URL = db.url;
    process.env.TEST_DB_KIND = db.kind;
  }
}
