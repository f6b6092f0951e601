/**
 * The servers under test, each started as its own child process on
 * 127.0.0.1 with a free port: ours (this repository), the official socket.io
 * server on Node (default `ws` engine) and on Bun (@socket.io/bun-engine).
 * The peers run bench/peers/socketio-peer.mjs: one source, two engines.
 * For the REST scenario only, seed-fastapi: the original Python service as its
 * README describes it (bench/peers/seed_peer.py: FastAPI + Motor, one uvicorn
 * worker), in the venv made by scripts/prepare-seed-peer.sh.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { sign } from "hono/jwt";
import { startServer, type ServerProc } from "./procs.ts";

export type TargetName = "ours" | "socket.io-node" | "socket.io-bun" | "seed-fastapi";
export const TARGETS: TargetName[] = ["ours", "socket.io-node", "socket.io-bun", "seed-fastapi"];

export interface Target {
  name: TargetName;
  /** The scenarios this target takes part in (all when absent). */
  scenarios?: string[];
  /** Why this target cannot run on this machine (then it is skipped), or null. */
  unavailable?(): string | null;
  /** Server with the `join` / `bcast` handlers only (no database). */
  broadcast(): Promise<ServerProc>;
  /** The chat server on database `db`; with `cpus`, run under `taskset -c cpus`. */
  chat(db: string, cpus?: string): Promise<ServerProc>;
  /** A token for `email` (ours and seed: REST login, which also registers the user; peers: signed with the shared secret). */
  token(url: string, email: string): Promise<string>;
}

/** `taskset -c cpus cmd…` (taskset execs the command: same pid), or cmd as it is. */
const pinned = (cmd: string[], cpus?: string) => (cpus ? ["taskset", "-c", cpus, ...cmd] : cmd);

const POLL = "/socket.io/?EIO=4&transport=polling";

export function makeTargets(root: string, mongoUrl: string, secret: string): Target[] {
  const bun = process.execPath;
  const peerFile = join(root, "bench/peers/socketio-peer.mjs");
  const peerToken = async (_url: string, email: string) => sign({ sub: email, exp: Math.floor(Date.now() / 1000) + 3600 }, secret, "HS256");
  const seedPython = join(root, ".cache/seedpeer/bin/python");
  const peerEnv = (db: string) => ({ MONGODB_URL: mongoUrl, DATABASE_NAME: db, JWT_SECRET_KEY: secret });
  // Production refuses AUTH_MODE=open: the bench logs in as a host backend would. Limits are lifted so the
  // load generators (one user with 19,500 sockets, one REST user at full speed) measure the server, not its budgets.
  const apiKey = `bench-host-key-${secret}`;
  // --no-list-cache: ours reads every conversation list from the database (the list cache off), e.g. to compare
  // the uncached REST list with the seed's.
  const listCache: Record<string, string> = process.argv.includes("--no-list-cache") ? { LIST_CACHE_ITEMS: "0" } : {};
  const oursEnv = { AUTH_MODE: "trusted", AUTH_API_KEYS: apiKey, MAX_SOCKETS_PER_USER: "100000", RATE_SEND_PER_10S: "1000000000", RATE_REST_WRITE_PER_MIN: "1000000000", ...listCache };
  return [
    {
      name: "ours",
      broadcast: () => startServer([bun, join(root, "bench/peers/ours-broadcast.ts")], {}, POLL),
      chat: (db, cpus) =>
        startServer(
          pinned([bun, join(root, "src/main.ts")], cpus),
          { NODE_ENV: "production", MONGODB_URL: mongoUrl, DATABASE_NAME: db, JWT_SECRET_KEY: secret, LOG_LEVEL: "error", ...oursEnv },
          "/health",
        ),
      token: (url, email) => oursToken(url, email, apiKey),
    },
    {
      name: "socket.io-node",
      broadcast: () => startServer(["node", peerFile], {}, POLL),
      chat: (db, cpus) => startServer(pinned(["node", peerFile], cpus), peerEnv(db), POLL),
      token: peerToken,
    },
    {
      name: "socket.io-bun",
      broadcast: () => startServer([bun, peerFile], { PEER_ENGINE: "bun" }, POLL),
      chat: (db, cpus) => startServer(pinned([bun, peerFile], cpus), { PEER_ENGINE: "bun", ...peerEnv(db) }, POLL),
      token: peerToken,
    },
    {
      name: "seed-fastapi",
      scenarios: ["rest"],
      unavailable: () =>
        existsSync(seedPython) ? null : `no Python venv at .cache/seedpeer: run \`bash scripts/prepare-seed-peer.sh\` (FastAPI, uvicorn, Motor from PyPI)`,
      broadcast: () => Promise.reject(new Error("seed-fastapi takes part in the REST scenario only")),
      // One uvicorn worker, no reload, log level warning (set in seed_peer.py's __main__).
      chat: (db, cpus) => startServer(pinned([seedPython, join(root, "bench/peers/seed_peer.py")], cpus), peerEnv(db), "/health"),
      // The seed's open login (it has no API keys); the key header is ignored there.
      token: (url, email) => oursToken(url, email, ""),
    },
  ];
}

async function oursToken(url: string, email: string, apiKey: string): Promise<string> {
  const res = await fetch(`${url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": apiKey },
    body: JSON.stringify({ email, name: email.split("@")[0] }),
  });
  if (!res.ok) throw new Error(`login failed: ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}
