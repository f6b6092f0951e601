/**
 * Load generator process: runs one scenario against one server and prints
 * JSON lines on stdout. It runs in its own process and speaks Engine.IO v4 /
 * Socket.IO v5 frames over a raw websocket (raw-eio.ts), never socket.io-client.
 *   bun bench/loadgen/worker.ts '<json config>'
 * Every loop is bounded by a count and a deadline; the whole process by `deadlineMs`.
 */
import { broadcast, type BroadcastConfig } from "./broadcast.ts";
import { chat, type ChatConfig } from "./chat.ts";
import { startMeter } from "./cpu.ts";
import { group, type GroupConfig } from "./group.ts";
import { RawEioClient } from "./raw-eio.ts";
import { connectMany, now, out } from "./util.ts";

interface ConnectionsConfig {
  scenario: "connections";
  url: string;
  serverPid?: number;
  count: number;
  parallel: number;
  token?: string;
}
type Config = (BroadcastConfig | ChatConfig | ConnectionsConfig | GroupConfig) & { deadlineMs?: number };

const nextLine = () =>
  new Promise<string>((resolve) => {
    process.stdin.once("data", (d) => resolve(String(d)));
  });

/** K idle clients, `parallel` handshakes in flight (each with the JWT check when a token is given). */
async function connections(c: ConnectionsConfig) {
  const meter = startMeter(c.serverPid);
  const t0 = now();
  const clients = await connectMany(c.count, c.parallel, async () => {
    const cl = new RawEioClient();
    await cl.connect(c.url, c.token ? { token: c.token } : undefined);
    return cl;
  });
  const seconds = (now() - t0) / 1000;
  out({ connected: clients.length, connect_per_s: clients.length / seconds, ...meter() });
  await nextLine(); // the runner reads the server's memory, then tells us to close
  for (const cl of clients) cl.close();
  out({ closed: true });
}

const cfg = JSON.parse(process.argv[2] ?? "{}") as Config;
const deadline = setTimeout(() => {
  out({ error: "worker deadline exceeded" });
  process.exit(2);
}, cfg.deadlineMs ?? 180_000);
try {
  if (cfg.scenario === "broadcast") out(await broadcast(cfg));
  else if (cfg.scenario === "connections") await connections(cfg);
  else if (cfg.scenario === "chat") out(await chat(cfg));
  else if (cfg.scenario === "group") out(await group(cfg));
  else throw new Error("unknown scenario");
} catch (err) {
  out({ error: String((err as Error).message ?? err) });
  process.exitCode = 1;
}
clearTimeout(deadline);
process.exit();
