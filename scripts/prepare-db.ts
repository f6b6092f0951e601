/**
 * Builds the embedded database (FerretDB, via tools/ferretdb) ahead of time,
 * so the first `npm start` or `npm test` does not pause for it. Skipped when a
 * mongod is on PATH or MONGODB_URL is set.
 */
import { resolve } from "node:path";
import { ensureFerretDbBinary } from "../src/embedded-db/ferretdb-binary.ts";

if (process.env.MONGODB_URL || Bun.which("mongod")) {
  console.log("prepare-db: using MONGODB_URL or mongod on PATH; nothing to build");
} else {
  const bin = await ensureFerretDbBinary(resolve(import.meta.dir, ".."), (l) => console.log(`prepare-db: ${l}`));
  console.log(`prepare-db: embedded database ready at ${bin}`);
}
