/** A bare Socket.IO server (no chat) on 127.0.0.1:0 for protocol tests, plus raw Engine.IO helpers. */
import { afterAll, afterEach } from "bun:test";
import type { Server } from "bun";
import type { Socket as ClientSocket } from "socket.io-client";
import { createSocketIOServer, type SocketIOOptions, type SocketIOServer } from "../../../src/realtime/socketio/server.ts";

export interface Harness {
  io: SocketIOServer;
  server: Server<unknown>;
  url: string;
  close(): Promise<void>;
}

export function startHarness(opts: SocketIOOptions = {}): Harness {
  const io = createSocketIOServer({ cors: { origins: "*" }, onError: () => {}, ...opts });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 60,
    fetch(req, srv) {
      const r = io.handleRequest(req, srv);
      return r === null ? new Response("not found", { status: 404 }) : r;
    },
    websocket: io.websocket,
  });
  io.attach(server);
  return {
    io,
    server,
    url: `http://127.0.0.1:${server.port}`,
    async close() {
      await io.close();
      await server.stop(true);
    },
  };
}

/** Polling handshake: returns the sid and the open packet's fields. */
export async function pollingHandshake(url: string): Promise<{ sid: string; open: Record<string, unknown> }> {
  const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling`);
  const body = await res.text();
  if (!body.startsWith("0")) throw new Error(`unexpected handshake body ${body}`);
  const open = JSON.parse(body.slice(1)) as Record<string, unknown>;
  return { sid: open.sid as string, open };
}

export const poll = (url: string, sid: string, init?: RequestInit) =>
  fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, init);

export const post = (url: string, sid: string, body: string) => poll(url, sid, { method: "POST", body });

/** A raw websocket with a queue of received frames. */
export class RawWs {
  readonly frames: (string | ArrayBuffer)[] = [];
  private waiters: (() => void)[] = [];
  closed = false;
  readonly ws: WebSocket;

  constructor(url: string) {
    this.ws = new WebSocket(url.replace("http", "ws"));
    this.ws.binaryType = "arraybuffer";
    this.ws.onmessage = (e) => {
      this.frames.push(e.data as string | ArrayBuffer);
      this.wake();
    };
    this.ws.onclose = () => {
      this.closed = true;
      this.wake();
    };
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) return resolve();
      this.ws.onopen = () => resolve();
      this.ws.onerror = () => reject(new Error("websocket failed to open"));
    });
  }

  /** The next frame, failing clearly after timeoutMs. */
  async next(timeoutMs = 3000): Promise<string | ArrayBuffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.closed) throw new Error("websocket closed while waiting for a frame");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.frames.shift()!;
  }

  async waitClosed(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error(`websocket still open after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 20);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  send(data: string | Uint8Array) {
    this.ws.send(data);
  }

  close() {
    this.ws.close();
  }
}

/**
 * Registers the usual clean-up of a protocol test file: the clients it lists are disconnected after each test,
 * the harnesses it lists closed after all. Call once at the top level of the file.
 */
export function cleanedUp(): { harnesses: Harness[]; clients: ClientSocket[] } {
  const harnesses: Harness[] = [];
  const clients: ClientSocket[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.disconnect();
  });
  afterAll(async () => {
    for (const h of harnesses) await h.close();
  });
  return { harnesses, clients };
}
