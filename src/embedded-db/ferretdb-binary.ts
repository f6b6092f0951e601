/**
 * Finds or builds the FerretDB v1.24.2 binary (our small wrapper module in
 * tools/ferretdb) with the machine's Go. FerretDB's source comes from the Go
 * module proxy; the few one-line fixes in tools/ferretdb/patches.json (each
 * says why) are applied to a copy under `.cache/ferretdb/`, and the wrapper is
 * built against that copy with a `replace` directive. The result is cached and
 * rebuilt only when the wrapper or the patches change.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export type Progress = (line: string) => void;

const SOURCES = ["go.mod", "go.sum", "main.go", "patches.json"];

interface Patches {
  module: string;
  version: string;
  patches: { why: string; file: string; from: string; to: string }[];
}

function sourceStamp(moduleDir: string): string {
  const h = new Bun.CryptoHasher("sha256");
  for (const f of SOURCES) h.update(readFileSync(join(moduleDir, f)));
  return h.digest("hex");
}

async function run(go: string, args: string[], cwd: string): Promise<string> {
  const proc = Bun.spawn([go, ...args], { cwd, env: { ...process.env, CGO_ENABLED: "0" }, stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`building FerretDB failed (go ${args.join(" ")} exit ${code}):\n${err.trim()}`);
  return out;
}

/** Go's module cache is read-only; the copy must be writable to be patched and, later, removed by a non-root user. */
function makeWritable(path: string): void {
  const st = statSync(path);
  chmodSync(path, st.mode | 0o200);
  if (st.isDirectory()) for (const name of readdirSync(path)) makeWritable(join(path, name));
}

/** Copies the module's source out of Go's read-only module cache and applies each patch exactly once. */
async function patchedSource(go: string, moduleDir: string, cacheDir: string, spec: Patches): Promise<string> {
  const info = JSON.parse(await run(go, ["mod", "download", "-json", `${spec.module}@${spec.version}`], moduleDir)) as { Dir?: string };
  if (!info.Dir) throw new Error(`building FerretDB failed: go mod download gave no directory for ${spec.module}@${spec.version}`);
  const dir = join(cacheDir, `src-${spec.version}`);
  rmSync(dir, { recursive: true, force: true });
  cpSync(info.Dir, dir, { recursive: true });
  makeWritable(dir);
  for (const p of spec.patches) {
    const file = join(dir, p.file);
    const text = readFileSync(file, "utf8");
    if (text.split(p.from).length !== 2) throw new Error(`FerretDB patch no longer applies to ${p.file}: expected exactly one "${p.from}"`);
    writeFileSync(file, text.replace(p.from, () => p.to));
  }
  return dir;
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
  const spec = JSON.parse(readFileSync(join(moduleDir, "patches.json"), "utf8")) as Patches;
  const src = await patchedSource(go, moduleDir, cacheDir, spec);
  // A build copy of our module whose go.mod points FerretDB at the patched source.
  const buildDir = join(cacheDir, "build");
  rmSync(buildDir, { recursive: true, force: true });
  mkdirSync(buildDir);
  for (const f of ["go.sum", "main.go"]) cpSync(join(moduleDir, f), join(buildDir, f));
  writeFileSync(join(buildDir, "go.mod"), `${readFileSync(join(moduleDir, "go.mod"), "utf8")}\nreplace ${spec.module} ${spec.version} => ${src}\n`);
  await run(go, ["build", "-o", bin, "."], buildDir);
  writeFileSync(stampFile, stamp);
  progress("embedded database built");
  return bin;
}
