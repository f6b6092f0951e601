/**
 * Finds or builds the FerretDB v1.24.2 binary (our small wrapper module in
 * tools/ferretdb) with the machine's Go. The build result is cached in
 * `.cache/ferretdb/` and rebuilt only when the module's files change.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export type Progress = (line: string) => void;

const SOURCES = ["go.mod", "go.sum", "main.go"];

function sourceStamp(moduleDir: string): string {
  const h = new Bun.CryptoHasher("sha256");
  for (const f of SOURCES) h.update(readFileSync(join(moduleDir, f)));
  return h.digest("hex");
}

export async function ensureFerretDbBinary(projectRoot: string, progress: Progress): Promise<string> {
  const moduleDir = join(projectRoot, "tools", "ferretdb");
  const cacheDir = join(projectRoot, ".cache", "ferretdb");
  const bin = join(cacheDir, "ferretdb-embedded");
  const stampFile = join(cacheDir, "stamp");
  const stamp = sourceStamp(moduleDir);
  if (existsSync(bin) && existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp) return bin;

  const go = Bun.which("go");
  if (!go) {
    throw new Error(
      "No MongoDB server available: MONGODB_URL is not set, there is no `mongod` on PATH, " +
        "and Go is not installed to build the embedded FerretDB. Install Go >= 1.24 or set MONGODB_URL=mongodb://host:27017.",
    );
  }
  mkdirSync(cacheDir, { recursive: true });
  progress("building the embedded database (FerretDB v1.24.2) with Go; first time only, about a minute…");
  const proc = Bun.spawn([go, "build", "-o", bin, "."], {
    cwd: moduleDir,
    env: { ...process.env, CGO_ENABLED: "0" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, err] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`building FerretDB failed (go build exit ${code}):\n${err.trim()}`);
  writeFileSync(stampFile, stamp);
  progress("embedded database built");
  return bin;
}
