/**
 * Cluster test harness: real processes on loopback, started here and stopped at the end — redis-server (from
 * apt, see scripts/prepare-redis.sh), server nodes (`bun src/main.ts`) sharing the test run's database and one
 * Redis, and HAProxy in front (one frontend sticky by cookie for default transports, one round robin for
 * websocket-only clients).
 */
import type { Subprocess } from "bun";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import { findFreePort, waitForPort } from "../../src/embedded-db/free-port.ts";
import { testMongoUrl, uniqueDbName } from "../helpers/server.ts";
import { waitUntil } from "../helpers/wait.ts";

const ROOT = resolve(import.meta.dir, "../..");
const procs = new Set<Subprocess>();
const sockets = new Set<Socket>();

export const HEARTBEAT_MS = 500;

export interface Node {
  port: number;
  url: string;
  proc: Subprocess;
  kill(signal?: "SIGKILL" | "SIGTERM"): Promise<void>;
  /** A gauge or counter from the node's /metrics (sum over labels). */
  metric(name: string): Promise<number>;
}

export interface Redis {
  port: number;
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

function track(p: Subprocess): Subprocess {
  procs.add(p);
  void p.exited.then(() => procs.delete(p));
  return p;
}

export async function startRedis(): Promise<Redis> {
  const port = await findFreePort();
  let proc: Subprocess | undefined;
  const r: Redis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      proc = track(Bun.spawn(["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdout: "ignore", stderr: "inherit" }));
      await waitForPort("127.0.0.1", port, 10_000);
    },
    async stop() {
      proc?.kill("SIGKILL");
      await proc?.exited;
    },
  };
  await r.start();
  return r;
}

export interface ClusterEnv {
  database: string;
  redisUrl: string;
  prefix: string;
  extra?: Record<string, string>;
}

export function clusterEnv(redis: Redis, label: string, extra: Record<string, string> = {}): ClusterEnv {
  return { database: uniqueDbName(label), redisUrl: redis.url, prefix: `t${Date.now().toString(36)}${process.pid}:`, extra };
}

export const METRICS_TOKEN = "cluster-test-metrics-token";

export async function startNode(env: ClusterEnv): Promise<Node> {
  const port = await findFreePort();
  const proc = track(
    Bun.spawn(["bun", "src/main.ts"], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: "test",
        HOST: "127.0.0.1",
        PORT: String(port),
        MONGODB_URL: testMongoUrl(),
        DATABASE_NAME: env.database,
        JWT_SECRET_KEY: "cluster-test-secret-that-is-long-enough-0123456789",
        REDIS_URL: env.redisUrl,
        REDIS_KEY_PREFIX: env.prefix,
        CLUSTER_HEARTBEAT_MS: String(HEARTBEAT_MS),
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
        METRICS_TOKEN,
        PRESENCE_GRACE_MS: "0",
        PING_INTERVAL_MS: "1000",
        PING_TIMEOUT_MS: "1000",
        SHUTDOWN_TIMEOUT_MS: "2000",
        ...env.extra,
      },
      stdout: "inherit",
      stderr: "inherit",
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(`${url}/health`).catch(() => null))?.ok === true, 30_000, `node on port ${port} to answer /health`);
  return {
    port,
    url,
    proc,
    async kill(signal = "SIGKILL") {
      proc.kill(signal);
      await proc.exited;
    },
    async metric(name) {
      const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
      let sum = 0;
      for (const line of text.split("\n")) if (line.startsWith(name) && /^[a-z_]+(\{[^}]*\})? /.test(line)) sum += Number(line.split(" ").at(-1));
      return sum;
    },
  };
}

export interface Balancer {
  /** Sticky by cookie (default transports: polling first, then upgrade). */
  stickyUrl: string;
  /** Round robin, no stickiness (websocket-only clients). */
  roundRobinUrl: string;
  stop(): Promise<void>;
}

export async function startHaproxy(nodes: Node[]): Promise<Balancer> {
  const [sticky, rr] = [await findFreePort(), await findFreePort()];
  const servers = (cookie: boolean) => nodes.map((n, i) => `  server n${i} 127.0.0.1:${n.port}${cookie ? ` cookie n${i}` : ""} check inter 200 fall 1 rise 1`).join("\n");
  const cfg = `global
  maxconn 4096
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h
  option redispatch
  retries 2
frontend sticky
  bind 127.0.0.1:${sticky}
  default_backend sticky_nodes
frontend rr
  bind 127.0.0.1:${rr}
  default_backend rr_nodes
backend sticky_nodes
  balance roundrobin
  option httpchk
  http-check send meth GET uri /health ver HTTP/1.1 hdr Host localhost
  cookie SERVERID insert indirect nocache
${servers(true)}
backend rr_nodes
  balance roundrobin
  option httpchk
  http-check send meth GET uri /health ver HTTP/1.1 hdr Host localhost
${servers(false)}
`;
  const dir = mkdtempSync(join(tmpdir(), "chat-haproxy-"));
  writeFileSync(join(dir, "haproxy.cfg"), cfg);
  const bin = Bun.which("haproxy") ?? "/usr/sbin/haproxy";
  const proc = track(Bun.spawn([bin, "-db", "-f", join(dir, "haproxy.cfg")], { stdout: "ignore", stderr: "inherit" }));
  await waitForPort("127.0.0.1", sticky, 10_000);
  await waitForPort("127.0.0.1", rr, 10_000);
  return {
    stickyUrl: `http://127.0.0.1:${sticky}`,
    roundRobinUrl: `http://127.0.0.1:${rr}`,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

export async function loginAt(url: string, email: string): Promise<string> {
  const r = await fetch(`${url}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, name: email.split("@")[0] }) });
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { access_token: string }).access_token;
}

/** Connects a socket.io-client (official) and waits for `connect`. */
export async function connectTo(url: string, token: string, opts: Partial<ManagerOptions & SocketOptions> = {}): Promise<Socket> {
  const socket = io(url, { auth: { token }, forceNew: true, reconnection: false, ...opts });
  sockets.add(socket);
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`timed out connecting to ${url}`)), 10_000);
    socket.once("connect", () => (clearTimeout(t), res()));
    socket.once("connect_error", (e) => (clearTimeout(t), rej(e)));
  });
  return socket;
}

export async function stopAll(): Promise<void> {
  for (const s of sockets) s.disconnect();
  sockets.clear();
  const all = [...procs];
  for (const p of all) p.kill("SIGKILL");
  await Promise.all(all.map((p) => p.exited));
}

/** nginx (Debian's nginx-light) in front of the nodes with `ip_hash`, as in the README; foreground, own temp dirs. */
export async function startNginx(nodes: Node[]): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await findFreePort();
  const dir = mkdtempSync(join(tmpdir(), "chat-nginx-"));
  const cfg = `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log stderr error;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream chat_nodes {
    ip_hash;
${nodes.map((n) => `    server 127.0.0.1:${n.port};`).join("\n")}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://chat_nodes;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 3600s;
    }
  }
}
`;
  writeFileSync(join(dir, "nginx.conf"), cfg);
  const bin = Bun.which("nginx") ?? "/usr/sbin/nginx";
  const proc = track(Bun.spawn([bin, "-c", join(dir, "nginx.conf"), "-p", dir], { stdout: "ignore", stderr: "inherit" }));
  await waitForPort("127.0.0.1", port, 10_000);
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}
