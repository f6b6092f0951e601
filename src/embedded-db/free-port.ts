/** Free TCP ports on loopback, and waiting for a port to accept connections. */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** Asks the OS for a free TCP port on loopback (bind to 0, read it, release it). */
export function findFreePort(host = "127.0.0.1"): Promise<number> {
  return tryPort(host, 0);
}

/**
 * A free port below the OS's ephemeral range, for a server that may be restarted on the same port.
 * While such a server is down, clients keep connecting to its port; if the port were in the
 * ephemeral range, one of those connections could be given that very port as its source port and
 * connect to itself (TCP simultaneous open), and a restarted server could find it taken.
 */
export async function findStablePort(host = "127.0.0.1"): Promise<number> {
  const low = ephemeralLow();
  const from = 10_000;
  if (low - from > 1000) {
    for (let i = 0; i < 50; i++) {
      const port = from + Math.floor(Math.random() * (low - from));
      const got = await tryPort(host, port).catch(() => null);
      if (got !== null) return got;
    }
  }
  return findFreePort(host);
}

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32768;
  } catch {
    return 32768; // Linux's default; other systems use a higher range
  }
}

function tryPort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(port, host, () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr && typeof addr === "object") resolve(addr.port);
        else reject(new Error("could not read the bound port"));
      });
    });
  });
}

/** Resolves once a TCP connection to host:port succeeds, or rejects after timeoutMs. */
export async function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      Bun.connect({
        hostname: host,
        port,
        socket: {
          open(s) { s.end(); resolve(true); },
          data() {},
          error() { resolve(false); },
          connectError() { resolve(false); },
        },
      }).catch(() => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await Bun.sleep(50);
  }
}
