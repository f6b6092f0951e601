/**
 * The server under test for the soak: `src/main.ts` as a child process on a fixed port, against a database
 * URL given by the caller, so it can be stopped (SIGTERM, graceful drain) and started again on the SAME port
 * (clients reconnect to the URL they know). Its JSON log lines at level error are kept for the report.
 */
import type { Subprocess } from "bun";
import { join } from "node:path";
import { findFreePort } from "../../src/embedded-db/free-port.ts";

export interface SoakServer {
  url: string;
  apiKey: string;
  readonly pid: number;
  /** Error lines the server logged (JSON, parsed), over all its runs. */
  errors: Record<string, unknown>[];
  /** SIGTERM, wait for the exit, start again on the same port; resolves when it answers again. */
  restart(): Promise<{ downMs: number }>;
  stop(): Promise<void>;
}

const live = new Set<Subprocess>();
process.on("exit", () => {
  for (const p of live) p.kill("SIGKILL");
});

export async function startSoakServer(root: string, mongoUrl: string, dbName: string): Promise<SoakServer> {
  const port = await findFreePort();
  const url = `http://127.0.0.1:${port}`;
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64url");
  const apiKey = `soak-host-key-${secret}`;
  // Production JSON logs; trusted logins (production refuses open) as a host backend would; budgets lifted so that
  // re-sends after an outage and the final syncs are never refused (the soak checks delivery, not limits).
  const env = {
    ...process.env, NODE_ENV: "production", HOST: "127.0.0.1", PORT: String(port), MONGODB_URL: mongoUrl, DATABASE_NAME: dbName,
    JWT_SECRET_KEY: secret, AUTH_MODE: "trusted", AUTH_API_KEYS: apiKey, LOG_LEVEL: "warn", MAX_SOCKETS_PER_USER: "100",
    RATE_SEND_PER_10S: "1000000", RATE_REST_WRITE_PER_MIN: "1000000", RATE_READ_PER_10S: "1000000", RATE_JOIN_PER_10S: "1000000",
    RATE_LOGIN_PER_IP_PER_MIN: "1000000",
  };
  const errors: Record<string, unknown>[] = [];
  let proc: Subprocess<"ignore", "ignore", "pipe">;
  const spawn = async () => {
    proc = Bun.spawn([process.execPath, join(root, "src/main.ts")], { env, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    live.add(proc);
    void readLines(proc.stderr, (line) => {
      try {
        const j = JSON.parse(line) as Record<string, unknown>;
        if (j.level === "error") errors.push(j);
      } catch {
        errors.push({ msg: line });
      }
    });
    const deadline = Date.now() + 30_000;
    while (!(await fetch(`${url}/health`).then((r) => r.ok, () => false))) {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`server did not become ready: ${JSON.stringify(errors.slice(-3))}`);
      await Bun.sleep(50);
    }
  };
  const stop = async () => {
    proc.kill("SIGTERM");
    const done = await Promise.race([proc.exited.then(() => true), Bun.sleep(20_000).then(() => false)]);
    if (!done) {
      errors.push({ msg: "soak: server did not exit within 20 s of SIGTERM; killed" });
      proc.kill("SIGKILL");
    }
    await proc.exited;
    live.delete(proc);
  };
  await spawn();
  return {
    url,
    apiKey,
    get pid() {
      return proc.pid;
    },
    errors,
    async restart() {
      const t0 = Date.now();
      await stop();
      await spawn();
      return { downMs: Date.now() - t0 };
    },
    stop,
  };
}

async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void) {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += dec.decode(chunk, { stream: true });
    for (let nl = buf.indexOf("\n"); nl !== -1; nl = buf.indexOf("\n")) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) onLine(line);
    }
  }
}
