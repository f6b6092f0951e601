/**
 * The soak (issue #12 §3): 40 users in pairs chatting through socket.io-client while their transports drop every
 * few seconds, the server is restarted once (SIGTERM, same port) and the embedded database is killed once (its
 * supervisor restarts it). Then a quiet period, a final sync of every client, and the verdict (verify.ts).
 * Used by `bun run bench --only soak` (bench/soak/main.ts) and test/soak/soak.test.ts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedDb } from "../../src/embedded-db/embedded-db.ts";
import { SoakClient } from "./client.ts";
import type { SoakParams } from "./params.ts";
import { startSoakServer, type SoakServer } from "./server-proc.ts";
import { reconnectFigures, verify, type SoakResult } from "./verify.ts";

export async function runSoak(root: string, P: SoakParams, log: (s: string) => void = () => {}): Promise<SoakResult> {
  const t0 = Date.now();
  const at = () => `[${((Date.now() - t0) / 1000).toFixed(1)} s]`;
  const dataDir = mkdtempSync(join(tmpdir(), "soak-db-"));
  let dbRestarts = 0;
  const db = await startEmbeddedDb({
    dataDir, projectRoot: root, sync: "normal",
    onEvent: (e) => log(`${at()} database ${e.type}${e.type === "restarted" ? ` (attempt ${e.attempt})` : ""}`),
  });
  let server: SoakServer | undefined;
  const clients: SoakClient[] = [];
  try {
    server = await startSoakServer(root, db.url, `soak_${Date.now()}`);
    const tokens = new Map<string, string>();
    for (let i = 0; i < P.users; i++) tokens.set(email(i), await login(server.url, server.apiKey, email(i)));
    for (let i = 0; i < P.users; i++) {
      const partner = email(i ^ 1);
      clients.push(new SoakClient(email(i), partner, server.url, tokens.get(email(i))!, i % P.websocketOnlyEvery === P.websocketOnlyEvery - 1, P.ackTimeoutMs));
    }
    await Promise.all(clients.map((c) => c.start()));
    log(`${at()} ${clients.length} clients connected (${clients.filter((c) => c.websocketOnly).length} websocket-only); running ${P.seconds} s`);

    const runStart = Date.now();
    const endAt = runStart + P.seconds * 1000;
    let chaosPaused = false;
    const senders = clients.map((c) => c.sendLoop(P.sendIntervalMs));
    const droppers = clients.map(async (c) => {
      for (;;) {
        await Bun.sleep(P.dropMinMs + Math.random() * (P.dropMaxMs - P.dropMinMs));
        if (Date.now() >= endAt) return;
        if (!chaosPaused) c.drop();
      }
    });
    let serverDownMs = 0;
    const restartWindow = { from: Number.POSITIVE_INFINITY, to: Number.NEGATIVE_INFINITY };
    const faults = (async () => {
      await Bun.sleep(Math.max(0, runStart + P.seconds * 1000 * P.serverRestartAt - Date.now()));
      // No induced drops while the server is down: every disconnect in this window is the restart's.
      chaosPaused = true;
      for (const c of clients) c.expect("server_restart");
      log(`${at()} server restart (SIGTERM, same port)`);
      restartWindow.from = Date.now();
      serverDownMs = (await server!.restart()).downMs;
      restartWindow.to = Date.now();
      log(`${at()} server back after ${serverDownMs} ms`);
      await Promise.all(clients.map((c) => c.waitConnected(30_000)));
      chaosPaused = false;
      await Bun.sleep(Math.max(0, runStart + P.seconds * 1000 * P.dbKillAt - Date.now()));
      log(`${at()} database SIGKILL (pid ${db.pid})`);
      process.kill(db.pid, "SIGKILL");
    })();
    await Bun.sleep(Math.max(0, endAt - Date.now()));
    await faults;
    for (const c of clients) c.stopSending();
    log(`${at()} stopping senders`);
    await Promise.all([...senders, ...droppers]);
    log(`${at()} quiet ${P.quietMs} ms`);
    await Bun.sleep(P.quietMs);
    const stuckClients = (await Promise.all(clients.map((c) => c.waitConnected(10_000)))).filter((ok) => !ok).length;
    await Promise.all(clients.map((c) => c.finalSync()));
    log(`${at()} final sync done; verifying`);
    const verdict = await verify(server.url, clients, tokens);
    const sum = (f: (c: SoakClient) => Record<string, number>) =>
      clients.reduce<Record<string, number>>((acc, c) => {
        for (const [k, v] of Object.entries(f(c))) acc[k] = (acc[k] ?? 0) + v;
        return acc;
      }, {});
    dbRestarts = db.restarts;
    return {
      seconds: P.seconds,
      users: P.users,
      websocketOnly: clients.filter((c) => c.websocketOnly).length,
      ...verdict,
      ...reconnectFigures(clients, restartWindow, runStart),
      syncOverlap: clients.reduce((n, c) => n + c.syncOverlap, 0),
      stuckClients,
      ioServerDisconnects: clients.reduce((n, c) => n + c.ioServerDisconnects, 0),
      sendAttempts: clients.reduce((n, c) => n + c.sent.reduce((m, s) => m + s.attempts, 0), 0),
      sendErrors: sum((c) => c.sendErrors),
      syncErrors: sum((c) => c.syncErrors),
      serverErrorLines: server.errors.length,
      serverErrorSamples: [...new Set(server.errors.map((e) => String(e.msg)))].slice(0, 10),
      serverDownMs,
      dbRestarts,
    };
  } finally {
    for (const c of clients) c.close();
    await server?.stop();
    await db.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const email = (i: number) => `soak${i}@soak.example`;

async function login(url: string, apiKey: string, email: string): Promise<string> {
  const res = await fetch(`${url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": apiKey },
    body: JSON.stringify({ email, name: email.split("@")[0] }),
  });
  if (!res.ok) throw new Error(`login ${email}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}
