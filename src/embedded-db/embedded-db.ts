/**
 * Starts a local MongoDB-wire server when no MONGODB_URL is configured:
 * a `mongod` on PATH if there is one, else FerretDB (SQLite backend) built from
 * our Go module. Data lives under dataDir and survives restarts; the port is
 * chosen free, so several servers with different data dirs can run at once.
 * The child never outlives us: FerretDB exits when its stdin pipe closes, and
 * mongod is killed on our exit.
 *
 * It is supervised: if the database process dies, it is started again on the
 * same port (backoff from 100 ms up to 5 s between attempts), so the driver's
 * own reconnection picks it up and the server resumes without a restart.
 */
import { mkdirSync } from "node:fs";
import { resolve, join } from "node:path";
import { ensureFerretDbBinary, type Progress } from "./ferretdb-binary.ts";
import { findStablePort, waitForPort } from "./free-port.ts";

export interface EmbeddedDb {
  url: string;
  kind: "mongod" | "ferretdb";
  /** The running process's id (changes with each restart). */
  readonly pid: number;
  /** How many times the process was started again after dying. */
  readonly restarts: number;
  stop(): Promise<void>;
}

export type EmbeddedDbEvent =
  | { type: "exited"; code: number | null; signal: string | null }
  | { type: "restarted"; attempt: number; pid: number }
  | { type: "restart_failed"; attempt: number; err: unknown };

export interface EmbeddedDbOptions {
  dataDir: string;
  projectRoot: string;
  progress?: Progress;
  /** Told when the process dies and when it has been started again (for logs and metrics). */
  onEvent?: (e: EmbeddedDbEvent) => void;
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
  /** A fixed port (`bun run db` with DB_PORT); default a free one. */
  port?: number;
}

const HOST = "127.0.0.1";
const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 5000;

async function commandFor(opts: EmbeddedDbOptions, dataDir: string, port: number): Promise<{ cmd: string[]; kind: EmbeddedDb["kind"] }> {
  const mongod = opts.preferFerretDb ? null : Bun.which("mongod");
  if (mongod) {
    const dir = join(dataDir, "mongod");
    mkdirSync(dir, { recursive: true });
    return { kind: "mongod", cmd: [mongod, "--dbpath", dir, "--port", String(port), "--bind_ip", HOST, "--quiet"] };
  }
  const bin = await ensureFerretDbBinary(opts.projectRoot, opts.progress ?? (() => {}));
  const dir = join(dataDir, "ferretdb");
  mkdirSync(dir, { recursive: true });
  const sqliteUrl = `file:${dir}/?_pragma=synchronous(${opts.sync ?? "normal"})`;
  return { kind: "ferretdb", cmd: [bin, "--listen-addr", `${HOST}:${port}`, "--sqlite-url", sqliteUrl, "--log-level", "error"] };
}

/** Spawns the process and resolves once it accepts connections; rejects (and kills it) otherwise. */
async function launch(cmd: string[], kind: string, port: number, timeoutMs: number) {
  const child = Bun.spawn(cmd, { stdin: "pipe", stdout: "ignore", stderr: "inherit" });
  const exitedEarly = child.exited.then((code) => {
    throw new Error(`embedded ${kind} exited with code ${code} before accepting connections`);
  });
  try {
    await Promise.race([waitForPort(HOST, port, timeoutMs), exitedEarly]);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  exitedEarly.catch(() => {});
  return child;
}

export async function startEmbeddedDb(opts: EmbeddedDbOptions): Promise<EmbeddedDb> {
  const progress = opts.progress ?? (() => {});
  const onEvent = opts.onEvent ?? (() => {});
  const dataDir = resolve(opts.dataDir);
  const timeout = opts.startTimeoutMs ?? 30_000;
  const port = opts.port ?? (await findStablePort(HOST));
  const { cmd, kind } = await commandFor(opts, dataDir, port);

  progress(`starting embedded ${kind} on ${HOST}:${port} (data in ${dataDir})`);
  let child = await launch(cmd, kind, port, timeout);
  let stopping = false;
  let restarts = 0;
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const supervise = (proc: typeof child) => {
    void proc.exited.then(async (code) => {
      if (stopping || proc !== child) return;
      onEvent({ type: "exited", code, signal: proc.signalCode === null ? null : String(proc.signalCode) });
      for (let attempt = 1, wait = BACKOFF_FIRST_MS; !stopping; attempt++, wait = Math.min(wait * 2, BACKOFF_MAX_MS)) {
        await Bun.sleep(wait);
        if (stopping) return;
        try {
          const next = await launch(cmd, kind, port, timeout);
          if (stopping) {
            next.kill("SIGKILL");
            return;
          }
          child = next;
          restarts++;
          onEvent({ type: "restarted", attempt, pid: next.pid });
          supervise(next);
          return;
        } catch (err) {
          onEvent({ type: "restart_failed", attempt, err });
        }
      }
    });
  };
  supervise(child);

  let stopped: Promise<void> | undefined;
  return {
    url: `mongodb://${HOST}:${port}/`,
    kind,
    get pid() {
      return child.pid;
    },
    get restarts() {
      return restarts;
    },
    stop() {
      stopped ??= (async () => {
        stopping = true;
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
