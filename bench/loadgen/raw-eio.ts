/**
 * The cheapest client we can write for Engine.IO v4 / Socket.IO v5 over
 * WebSocket: a plain TCP socket (Bun.connect), the HTTP upgrade written by
 * hand, and RFC 6455 frames parsed in place. A receiver that only counts
 * events never turns a frame into a string: one JS callback per TCP read,
 * whatever number of frames it holds. Used for the broadcast receivers, where
 * a WebSocket client object per message would make the load generator, not
 * the server, the bottleneck.
 * @see https://datatracker.ietf.org/doc/html/rfc6455#section-5.2
 * @see https://github.com/socketio/socket.io/tree/main/docs/engine.io-protocol
 */
import type { Socket } from "bun";

const dec = new TextDecoder();
const enc = new TextEncoder();
const C_4 = 0x34;
const C_2 = 0x32;
const C_0 = 0x30;
/** The offset marker that follows broadcasts when the server runs with recovery on: not an application event. */
const MARKER = enc.encode('42["sio:offset"');

type State = "http" | "open" | "connecting" | "connected" | "closed";

/** Encodes a masked client text frame (zero mask key: the payload bytes stay as they are). */
export function textFrame(text: string): Uint8Array {
  const payload = enc.encode(text);
  const n = payload.length;
  const hdr = n < 126 ? 6 : n < 65536 ? 8 : 14;
  const out = new Uint8Array(hdr + n);
  out[0] = 0x81;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65536) {
    out[1] = 0x80 | 126;
    out[2] = n >> 8;
    out[3] = n & 0xff;
  } else {
    out[1] = 0x80 | 127;
    new DataView(out.buffer).setUint32(6, n);
  }
  // Bytes hdr-4 .. hdr-1 are the mask key, left at zero.
  out.set(payload, hdr);
  return out;
}

const PONG = textFrame("3");

export class RawEioClient {
  /** Socket.IO EVENT packets (`42…`) received since connect, offset markers not counted. */
  events = 0;
  /** Called with the decoded text of every `42…` frame, only when set (sampled receivers). */
  onEvent: ((text: string) => void) | null = null;
  private sock: Socket<undefined> | null = null;
  private state: State = "http";
  private rest: Uint8Array | null = null;
  private pendingWrite: Uint8Array | null = null;
  private acks = new Map<number, (text: string) => void>();
  private nextAck = 1;
  private settle: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private auth = "";

  /** Upgrades, sends CONNECT (with auth), resolves on the CONNECT reply. */
  connect(baseUrl: string, auth?: Record<string, unknown>, timeoutMs = 10_000): Promise<void> {
    const u = new URL(baseUrl);
    this.auth = auth ? JSON.stringify(auth) : "";
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error("connect timeout")), timeoutMs);
      const fail = (e: Error) => {
        clearTimeout(timer);
        this.settle = null;
        this.close();
        reject(e);
      };
      this.settle = {
        resolve: () => {
          clearTimeout(timer);
          this.settle = null;
          resolve();
        },
        reject: fail,
      };
      const self = this;
      Bun.connect({
        hostname: u.hostname,
        port: Number(u.port),
        socket: {
          open(s) {
            self.sock = s;
            s.setNoDelay(true);
            s.write(
              `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            );
          },
          data(_s, data) {
            self.onData(data);
          },
          drain() {
            self.flush();
          },
          close() {
            self.state = "closed";
            self.settle?.reject(new Error("closed during connect"));
          },
          error(_s, err) {
            self.settle?.reject(err);
          },
        },
      }).catch((e: Error) => fail(e));
    });
  }

  /** Sends one Engine.IO message text, e.g. `42["ev",{…}]`. */
  sendText(text: string): void {
    this.write(textFrame(text));
  }

  /** Sends a pre-encoded frame (see textFrame). */
  sendFrame(frame: Uint8Array): void {
    this.write(frame);
  }

  /** Emits with an ack id; resolves with the ack's JSON text. */
  request(event: string, data: unknown, timeoutMs = 10_000): Promise<string> {
    const id = this.nextAck++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.acks.delete(id);
        reject(new Error(`ack timeout for ${event}`));
      }, timeoutMs);
      this.acks.set(id, (t) => {
        clearTimeout(timer);
        resolve(t);
      });
      this.sendText(`42${id}${JSON.stringify([event, data])}`);
    });
  }

  close(): void {
    this.state = "closed";
    this.sock?.end();
    this.sock = null;
  }

  private write(bytes: Uint8Array): void {
    const s = this.sock;
    if (!s || this.state === "closed") return;
    if (this.pendingWrite) {
      const merged = new Uint8Array(this.pendingWrite.length + bytes.length);
      merged.set(this.pendingWrite);
      merged.set(bytes, this.pendingWrite.length);
      this.pendingWrite = merged;
      return;
    }
    const n = s.write(bytes);
    if (n < bytes.length) this.pendingWrite = bytes.subarray(Math.max(0, n));
  }

  private flush(): void {
    const p = this.pendingWrite;
    if (!p || !this.sock) return;
    this.pendingWrite = null;
    this.write(p);
  }

  private onData(chunk: Uint8Array): void {
    let buf = chunk;
    if (this.rest) {
      buf = new Uint8Array(this.rest.length + chunk.length);
      buf.set(this.rest);
      buf.set(chunk, this.rest.length);
      this.rest = null;
    }
    let i = 0;
    if (this.state === "http") {
      const end = indexOfCrlf2(buf);
      if (end === -1) {
        this.rest = buf.slice();
        return;
      }
      const head = dec.decode(buf.subarray(0, end));
      if (!head.startsWith("HTTP/1.1 101")) {
        this.settle?.reject(new Error(`upgrade refused: ${head.split("\r\n")[0]}`));
        return;
      }
      this.state = "open";
      i = end + 4;
    }
    const n = buf.length;
    while (n - i >= 2) {
      const b0 = buf[i]!;
      let len = buf[i + 1]! & 0x7f;
      let hdr = 2;
      if (len === 126) {
        if (n - i < 4) break;
        len = (buf[i + 2]! << 8) | buf[i + 3]!;
        hdr = 4;
      } else if (len === 127) {
        if (n - i < 10) break;
        len = (buf[i + 6]! * 2 ** 24) + ((buf[i + 7]! << 16) | (buf[i + 8]! << 8) | buf[i + 9]!);
        hdr = 10;
      }
      if (n - i < hdr + len) break;
      this.onFrame(b0 & 0x0f, buf, i + hdr, i + hdr + len);
      i += hdr + len;
    }
    if (i < n) this.rest = buf.slice(i);
  }

  private onFrame(opcode: number, buf: Uint8Array, s: number, e: number): void {
    if (opcode === 1) {
      const c0 = buf[s];
      if (c0 === C_4 && buf[s + 1] === C_2 && this.state === "connected") {
        if (isMarker(buf, s, e)) return;
        this.events++;
        if (this.onEvent) this.onEvent(dec.decode(buf.subarray(s, e)));
        return;
      }
      if (c0 === C_2 && e - s === 1) return this.write(PONG);
      this.onControlText(dec.decode(buf.subarray(s, e)));
    } else if (opcode === 9) {
      const payload = buf.slice(s, e);
      const frame = new Uint8Array(6 + payload.length);
      frame[0] = 0x8a;
      frame[1] = 0x80 | payload.length;
      frame.set(payload, 6);
      this.write(frame);
    } else if (opcode === 8) {
      this.close();
    }
  }

  private onControlText(t: string): void {
    const c0 = t.charCodeAt(0);
    if (c0 === C_0 && this.state === "open") {
      this.state = "connecting";
      this.sendText(`40${this.auth}`);
    } else if (t.startsWith("40") && this.state === "connecting") {
      this.state = "connected";
      this.settle?.resolve();
    } else if (t.startsWith("44")) {
      this.settle?.reject(new Error(`connect_error ${t.slice(2)}`));
    } else if (t.startsWith("43")) {
      const at = t.indexOf("[");
      const id = Number(t.slice(2, at));
      const cb = this.acks.get(id);
      if (cb) {
        this.acks.delete(id);
        cb(t.slice(at));
      }
    }
  }
}

function isMarker(b: Uint8Array, s: number, e: number): boolean {
  if (e - s < MARKER.length || b[s + 3] !== MARKER[3] || b[s + 4] !== MARKER[4]) return false;
  for (let i = 5; i < MARKER.length; i++) if (b[s + i] !== MARKER[i]) return false;
  return true;
}

function indexOfCrlf2(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}
