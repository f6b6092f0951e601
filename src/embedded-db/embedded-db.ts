/**
 * Starts a local MongoDB-wire server when no MONGODB_URL is configured:
 * a `mongod` on PATH if there is one, else FerretDB (SQLite backend) built from
 * our Go module. Data lives under dataDir and survives restarts; the port is
 * chosen free, so several servers with different data dirs can run at once.
 * The child never outlives us: FerretDB exits when its stdin pipe closes, and
 * mongod is killed on our exit.
 */
import { mkdirSync } from "node:fs";
import { resolve, join } from "node:path";
import { ensureFerretDbBinary, type Progress } from "./ferretdb-binary.ts";
import { findFreePort, waitForPort } from "./free-port.ts";

export interface EmbeddedDb {
  url: string;
  kind: "mongod" | "ferretdb";
  stop(): Promise<void>;
}

export interface EmbeddedDbOptions {
  dataDir: string;
  projectRoot: string;
  progress?: Progress;
  /** Ignore a mongod on PATH (tests of the FerretDB path). */
  preferFerretDb?: boolean;
  startTimeoutMs?: number;
  /**
   * SQLite `synchronous` for FerretDB (WAL mode). "normal" survives a crash of the
   * database process and loses at most the last commits on power loss — the same
   * promise as MongoDB's default write concern (journal flushed every 100 ms) — at
   * about twice the write rate of "full", which fsyncs every commit.
   */
  sync?: "normal" | "full";
}

const HOST = "127.0.0.1";

export async function startEmbeddedDb(opts: EmbeddedDbOptions): Promise<EmbeddedDb> {
  const progress = opts.progress ?? (() => {});
  const dataDir = resolve(opts.dataDir);
  const timeout = opts.startTimeoutMs ?? 30_000;
  const mongod = opts.preferFerretDb ? null : Bun.which("mongod");
  const port = await findFreePort(HOST);

  let cmd: string[];
  let kind: EmbeddedDb["kind"];
  if (mongod) {
    kind = "mongod";
    const dir = join(dataDir, "mongod");
    mkdirSync(dir, { recursive: true });
    cmd = [mongod, "--dbpath", dir, "--port", String(port), "--bind_ip", HOST, "--quiet"];
  } else {
    kind = "ferretdb";
    const bin = await ensureFerretDbBinary(opts.projectRoot, progress);
    const dir = join(dataDir, "ferretdb");
    mkdirSync(dir, { recursive: true });
    const sqliteUrl = `file:${dir}/?_pragma=synchronous(${opts.sync ?? "normal"})`;
    cmd = [bin, "--listen-addr", `${HOST}:${port}`, "--sqlite-url", sqliteUrl, "--log-level", "error"];
  }

  progress(`starting embedded ${kind} on ${HOST}:${port} (data in ${dataDir})`);
  const child = Bun.spawn(cmd, { stdin: "pipe", stdout: "ignore", stderr: "inherit" });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const exitedEarly = child.exited.then((code) => {
    throw new Error(`embedded ${kind} exited with code ${code} before accepting connections`);
  });
  try {
    await Promise.race([waitForPort(HOST, port, timeout), exitedEarly]);
  } catch (err) {
    child.kill("SIGKILL");
    process.off("exit", killOnExit);
    throw err;
  }
  exitedEarly.catch(() => {});

  let stopped: Promise<void> | undefined;
  return {
    url: `mongodb://${HOST}:${port}/`,
    kind,
    stop() {
      stopped ??= (async () => {
        process.off("exit", killOnExit);
        child.kill("SIGTERM");
        const done = await Promise.race([child.exited.then(() => true), Bun.sleep(5000).then(() => false)]);
        if (!done) child.kill("SIGKILL");
        await child.exited;
      })();
      return stopped;
    },
  };
}
