/**
 * Finds or builds the FerretDB v1.24.2 binary (our small wrapper module in
 * tools/ferretdb) with the machine's Go. FerretDB's source comes from the Go
 * module proxy; the small fixes listed in tools/ferretdb/patches.json (each
 * says why; tools/ferretdb/PATCHES.md explains them) are applied to a copy under
 * `.cache/ferretdb/`, and the wrapper is built against that copy with a
 * `replace` directive. A patch may instead name a dependency of FerretDB
 * (`module` and `version`, e.g. github.com/FerretDB/wire): that module is
 * copied and patched the same way and replaced too. The result is cached and
 * rebuilt only when the wrapper or the patches change.
 *
 * A patch is either an exact string replacement (`file`, `from`, `to`) or a
 * unified diff (`diff`: a file under tools/ferretdb/, as `git diff` writes it).
 * Either must apply exactly once: a `from` string, or each hunk's old lines,
 * must occur exactly once in its file (a new file must not exist yet), else the
 * build stops with an error naming the patch, so an upgrade of FerretDB never
 * silently drops or misplaces a fix.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export type Progress = (line: string) => void;

const SOURCES = ["go.mod", "go.sum", "main.go", "patches.json"];

export type Patch = { why: string; module?: string; version?: string } & ({ file: string; from: string; to: string } | { diff: string });

export interface Patches {
  module: string;
  version: string;
  patches: Patch[];
}

function sourceStamp(moduleDir: string): string {
  const h = new Bun.CryptoHasher("sha256");
  for (const f of SOURCES) h.update(readFileSync(join(moduleDir, f)));
  const spec = JSON.parse(readFileSync(join(moduleDir, "patches.json"), "utf8")) as Patches;
  for (const p of spec.patches) if ("diff" in p) h.update(readFileSync(join(moduleDir, p.diff)));
  return h.digest("hex");
}

/** Replaces `from` by `to` in `text`, requiring exactly one occurrence. */
function replaceOnce(text: string, from: string, to: string, what: string): string {
  const n = text.split(from).length - 1;
  if (n !== 1) throw new Error(`FerretDB patch no longer applies: ${what} occurs ${n} times, expected exactly once`);
  return text.replace(from, () => to);
}

/**
 * Applies a unified diff (paths `a/...` and `b/...` relative to the module root)
 * to `dir`. Each hunk's old lines (context and removed) must occur exactly once
 * in the file, as whole lines; line numbers are ignored. A file whose old side
 * is /dev/null is created and must not exist yet.
 */
export function applyUnifiedDiff(dir: string, diff: string, name: string): void {
  const lines = diff.split("\n");
  let i = 0;
  while (i < lines.length) {
    if (!lines[i]!.startsWith("--- ")) {
      i++;
      continue;
    }
    const oldPath = lines[i]!.slice(4).trim();
    const newPath = lines[i + 1]?.startsWith("+++ ") ? lines[i + 1]!.slice(4).trim() : "";
    if (!newPath.startsWith("b/")) throw new Error(`FerretDB patch ${name}: bad file header at line ${i + 2}`);
    const file = join(dir, newPath.slice(2));
    const created = oldPath === "/dev/null";
    if (created && existsSync(file)) throw new Error(`FerretDB patch ${name} no longer applies: ${newPath.slice(2)} already exists`);
    if (!created && !existsSync(file)) throw new Error(`FerretDB patch ${name} no longer applies: ${newPath.slice(2)} does not exist`);
    let text = created ? "" : readFileSync(file, "utf8");
    i += 2;
    while (i < lines.length && lines[i]!.startsWith("@@")) {
      const header = lines[i]!;
      const before: string[] = [];
      const after: string[] = [];
      for (i++; i < lines.length; i++) {
        const l = lines[i]!;
        if (l.startsWith(" ")) {
          before.push(l.slice(1));
          after.push(l.slice(1));
        } else if (l.startsWith("-")) before.push(l.slice(1));
        else if (l.startsWith("+")) after.push(l.slice(1));
        else if (l.startsWith("\\")) throw new Error(`FerretDB patch ${name}: "no newline at end of file" is not supported`);
        else break;
      }
      if (created) text = after.map((l) => `${l}\n`).join("");
      else text = replaceOnce(`\n${text}`, `\n${before.join("\n")}\n`, `\n${after.join("\n")}\n`, `${name}: hunk "${header}" of ${newPath.slice(2)}`).slice(1);
    }
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
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

/**
 * Copies a module's source out of Go's read-only module cache into `dir` and applies each patch exactly once.
 * The module must be the one at that version in the build (FerretDB's go.mod), else the patch is for a
 * version that is not used: checked by the caller through `go list -m`.
 */
async function patchedSource(go: string, moduleDir: string, module: string, version: string, dir: string, patches: Patch[]): Promise<string> {
  const info = JSON.parse(await run(go, ["mod", "download", "-json", `${module}@${version}`], moduleDir)) as { Dir?: string };
  if (!info.Dir) throw new Error(`building FerretDB failed: go mod download gave no directory for ${module}@${version}`);
  rmSync(dir, { recursive: true, force: true });
  cpSync(info.Dir, dir, { recursive: true });
  makeWritable(dir);
  for (const p of patches) {
    if ("diff" in p) {
      applyUnifiedDiff(dir, readFileSync(join(moduleDir, p.diff), "utf8"), p.diff);
    } else {
      const file = join(dir, p.file);
      writeFileSync(file, replaceOnce(readFileSync(file, "utf8"), p.from, p.to, `"${p.from}" in ${p.file}`));
    }
  }
  return dir;
}

/**
 * The modules to patch, in order: FerretDB itself (patches without `module`, source in
 * `src-<version>`) and each dependency a patch names (`src-<last path element>-<version>`).
 */
export function patchedModules(spec: Patches, cacheDir: string): Map<string, { version: string; dir: string; patches: Patch[] }> {
  const modules = new Map<string, { version: string; dir: string; patches: Patch[] }>();
  modules.set(spec.module, { version: spec.version, dir: join(cacheDir, `src-${spec.version}`), patches: [] });
  for (const p of spec.patches) {
    const name = p.module ?? spec.module;
    let m = modules.get(name);
    if (!m) {
      if (!p.version) throw new Error(`FerretDB patch for ${name} has no version`);
      m = { version: p.version, dir: join(cacheDir, `src-${name.split("/").pop()}-${p.version}`), patches: [] };
      modules.set(name, m);
    }
    if (p.version && p.version !== m.version) throw new Error(`FerretDB patches for ${name} name two versions: ${m.version} and ${p.version}`);
    m.patches.push(p);
  }
  return modules;
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
  const modules = patchedModules(spec, cacheDir);
  let replaces = "";
  for (const [name, m] of modules) {
    await patchedSource(go, moduleDir, name, m.version, m.dir, m.patches);
    replaces += `replace ${name} ${m.version} => ${m.dir}\n`;
  }
  // A build copy of our module whose go.mod points FerretDB (and patched dependencies) at the patched sources.
  const buildDir = join(cacheDir, "build");
  rmSync(buildDir, { recursive: true, force: true });
  mkdirSync(buildDir);
  for (const f of ["go.sum", "main.go"]) cpSync(join(moduleDir, f), join(buildDir, f));
  writeFileSync(join(buildDir, "go.mod"), `${readFileSync(join(moduleDir, "go.mod"), "utf8")}\n${replaces}`);
  // A dependency patch must patch the version the build uses (a replace of another version would be ignored).
  for (const [name, m] of modules) {
    const used = (await run(go, ["list", "-m", "-f", "{{.Version}}", name], buildDir)).trim();
    if (used !== m.version) throw new Error(`FerretDB patch no longer applies: the build uses ${name} ${used}, the patches are for ${m.version}`);
  }
  await run(go, ["build", "-o", bin, "."], buildDir);
  writeFileSync(stampFile, stamp);
  progress("embedded database built");
  return bin;
}
