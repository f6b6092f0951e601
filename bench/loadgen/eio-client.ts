/**
 * A minimal Socket.IO v5 client over a raw Engine.IO v4 websocket, for load
 * generation: frames are pre-encoded strings, pings answered, nothing parsed
 * beyond what a scenario asks for. Cheaper than socket.io-client by far, so
 * the load generator is not the bottleneck.
 */
export type FrameHandler = (frame: string) => void;

export class EioClient {
  private ws!: WebSocket;
  private onFrame: FrameHandler = () => {};
  private pendingAcks = new Map<number, (frame: string) => void>();
  private nextAck = 1;

  /** Opens the websocket, sends CONNECT (with auth if given) and resolves on the CONNECT reply. */
  connect(baseUrl: string, auth?: Record<string, unknown>, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("connect timeout")), timeoutMs);
      this.ws = new WebSocket(`${baseUrl.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
      this.ws.onmessage = (e) => {
        const f = e.data as string;
        const c = f.charCodeAt(0);
        if (c === 50 /* 2 ping */) return this.ws.send("3");
        if (c === 48 /* 0 open */) return this.ws.send(auth ? `40${JSON.stringify(auth)}` : "40");
        if (f.startsWith("40")) {
          clearTimeout(timer);
          resolve();
          return;
        }
        if (f.startsWith("44")) {
          clearTimeout(timer);
          reject(new Error(`connect_error ${f.slice(2)}`));
          return;
        }
        if (f.startsWith("43")) {
          const end = f.indexOf("[");
          const id = Number(f.slice(2, end));
          const cb = this.pendingAcks.get(id);
          if (cb) {
            this.pendingAcks.delete(id);
            cb(f.slice(end));
          }
          return;
        }
        this.onFrame(f);
      };
      this.ws.onerror = () => {
        clearTimeout(timer);
        reject(new Error("websocket error"));
      };
    });
  }

  on(handler: FrameHandler): void {
    this.onFrame = handler;
  }

  /** Sends a pre-encoded Socket.IO EVENT (`2[...]`, without the Engine.IO `4`). */
  sendRaw(packet: string): void {
    this.ws.send(`4${packet}`);
  }

  emit(event: string, data: unknown): void {
    this.ws.send(`42${JSON.stringify([event, data])}`);
  }

  /** Emits with an ack; resolves with the ack's JSON array text. */
  request(event: string, data: unknown, timeoutMs = 10_000): Promise<string> {
    const id = this.nextAck++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingAcks.delete(id);
        reject(new Error(`ack timeout for ${event}`));
      }, timeoutMs);
      this.pendingAcks.set(id, (f) => {
        clearTimeout(timer);
        resolve(f);
      });
      this.ws.send(`42${id}${JSON.stringify([event, data])}`);
    });
  }

  close(): void {
    this.ws.close();
  }
}

/** Opens n clients, `parallel` at a time. */
export async function connectMany<T>(n: number, parallel: number, open: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await open(i);
      }
    }),
  );
  return out;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}
