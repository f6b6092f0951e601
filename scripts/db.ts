/**
 * `bun run db`: the embedded database alone, in the foreground, so several server processes on one machine
 * can share it (cluster mode). DATA_DIR (default ./data) and DB_PORT (default: a free port). Prints exactly one
 * line `MONGODB_URL=mongodb://127.0.0.1:<port>/` on stdout once the database answers (progress goes to
 * stderr), and stops it on SIGINT/SIGTERM.
 */
import { resolve } from "node:path";
import { startEmbeddedDb } from "../src/embedded-db/embedded-db.ts";

const port = process.env.DB_PORT ? Number(process.env.DB_PORT) : undefined;
if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
  process.stderr.write("DB_PORT: must be a port number (1-65535)\n");
  process.exit(1);
}
const db = await startEmbeddedDb({
  dataDir: process.env.DATA_DIR || "./data",
  projectRoot: resolve(import.meta.dir, ".."),
  port,
  progress: (line) => process.stderr.write(`db: ${line}\n`),
  onEvent: (e) => process.stderr.write(`db: ${e.type}\n`),
});
process.stdout.write(`MONGODB_URL=${db.url}\n`);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await db.stop();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
