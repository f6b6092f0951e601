/**
 * One soak user: the official socket.io-client with default options (polling → websocket, its own reconnection
 * and connection state recovery), or websocket only. It sends to its partner with a client_id per message and
 * re-sends with the same client_id until acked; it keeps every message it receives, deduped by id, from live
 * `new_message` events (replays of a recovered session included) and, after a reconnect that was not recovered,
 * from the `sync` event, paged from its stored cursor until `has_more` is false.
 */
import { io, type Socket } from "socket.io-client";

export type DropCause = "drop" | "server_restart" | "other";

export interface Reconnect {
  cause: DropCause;
  reason: string;
  disconnectedAt: number;
  connectedAt?: number;
  recovered?: boolean;
  /** recovered: the connect event; not recovered: the last sync page of the catch-up. */
  caughtUpAt?: number;
  syncPages: number;
}

export interface Sent {
  id: string;
  clientId: string;
  conversationId: string;
  attempts: number;
}

interface Msg {
  id: string;
  conversation_id: string;
  sender_email: string;
  client_id?: string | null;
}

export class SoakClient {
  readonly socket: Socket;
  /** Every message received, by id. */
  readonly received = new Map<string, Msg>();
  /** Messages that came as `new_message` before the final sync (live, replayed by recovery, or by a reconnect's sync). */
  readonly deliveredBeforeFinal = new Set<string>();
  /** Times each id came as a `new_message` event: above 1 is a raw duplicate. */
  readonly eventCounts = new Map<string, number>();
  readonly reconnects: Reconnect[] = [];
  readonly sent: Sent[] = [];
  readonly sendErrors: Record<string, number> = {};
  readonly syncErrors: Record<string, number> = {};
  /** Messages a sync page repeated that the client already had (sync looks 5 s back: expected, deduped). */
  syncOverlap = 0;
  ioServerDisconnects = 0;
  cursor = "";
  private nextCause: DropCause | undefined;
  private current: Reconnect | undefined;
  private needsSync = false;
  private syncing: Promise<void> | undefined;
  private stopped = false;
  private final = false;

  constructor(
    readonly email: string,
    readonly partner: string,
    url: string,
    token: string,
    readonly websocketOnly: boolean,
    private readonly ackTimeoutMs: number,
  ) {
    this.socket = io(url, { auth: { token }, forceNew: true, ...(websocketOnly ? { transports: ["websocket"] } : {}) });
    this.socket.on("new_message", (m: Msg) => {
      this.eventCounts.set(m.id, (this.eventCounts.get(m.id) ?? 0) + 1);
      this.keep(m);
    });
    this.socket.on("disconnect", (reason) => {
      if (reason === "io client disconnect") return;
      this.current = { cause: this.nextCause ?? "other", reason, disconnectedAt: Date.now(), syncPages: 0 };
      this.nextCause = undefined;
      this.reconnects.push(this.current);
      // The server ended the session on purpose: socket.io-client does not come back by itself.
      if (reason === "io server disconnect" && !this.stopped) {
        this.ioServerDisconnects++;
        this.socket.connect();
      }
    });
    this.socket.on("connect", () => {
      const r = this.current;
      this.current = undefined;
      if (r) {
        r.connectedAt = Date.now();
        r.recovered = this.socket.recovered;
        if (r.recovered && !this.needsSync) r.caughtUpAt = r.connectedAt;
      }
      if (r && !this.socket.recovered) this.needsSync = true;
      // A recovered session after a catch-up that a drop cut short still owes that catch-up.
      if (this.needsSync) void this.catchUp(r);
    });
  }

  private keep(m: Msg) {
    if (!this.final) this.deliveredBeforeFinal.add(m.id);
    this.received.set(m.id, m);
  }

  /** Connects and takes the first cursor (`sync {}`: "from now on"). */
  async start(): Promise<void> {
    await this.waitConnected(15_000);
    for (;;) {
      const r = await this.socket.timeout(this.ackTimeoutMs).emitWithAck("sync", {}).catch((e: Error) => ({ ok: false, error: { code: e.message } }));
      if (r.ok) {
        this.cursor = r.cursor;
        return;
      }
      await Bun.sleep(200);
    }
  }

  waitConnected(timeoutMs: number): Promise<boolean> {
    if (this.socket.connected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.socket.off("connect", onConnect);
        resolve(ok);
      };
      const onConnect = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.socket.on("connect", onConnect);
    });
  }

  /** Closes the transport (as a network drop would); the client reconnects by itself. */
  drop(cause: DropCause = "drop"): boolean {
    if (!this.socket.connected || this.syncing) return false;
    this.nextCause = cause;
    this.socket.io.engine.close();
    return true;
  }

  /** The next disconnect has this cause (the harness is about to restart the server). */
  expect(cause: DropCause): void {
    this.nextCause = cause;
  }

  /** Pages `sync` from the stored cursor until has_more is false; a drop cuts it short (the next connect resumes). */
  catchUp(r?: Reconnect): Promise<void> {
    this.syncing ??= (async () => {
      try {
        while (this.socket.connected) {
          const page = await this.socket
            .timeout(this.ackTimeoutMs)
            .emitWithAck("sync", { since: this.cursor })
            .catch((e: Error) => ({ ok: false, error: { code: e.message.includes("timed out") ? "ACK_TIMEOUT" : e.message } }));
          if (!page.ok) {
            this.syncErrors[page.error.code] = (this.syncErrors[page.error.code] ?? 0) + 1;
            await Bun.sleep(250);
            continue;
          }
          if (r) r.syncPages++;
          for (const m of page.messages as Msg[]) {
            if (this.received.has(m.id)) this.syncOverlap++;
            this.keep(m);
          }
          this.cursor = page.cursor;
          if (!page.has_more) {
            this.needsSync = false;
            if (r) r.caughtUpAt = Date.now();
            return;
          }
        }
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  /** Sends until acked, re-sending with the same client_id after an error, an ack timeout or a disconnect. */
  async send(clientId: string, text: string): Promise<void> {
    for (let attempts = 1; ; attempts++) {
      if (!(await this.waitConnected(this.ackTimeoutMs))) {
        this.sendErrors.DISCONNECTED = (this.sendErrors.DISCONNECTED ?? 0) + 1;
        continue;
      }
      // An ack the server sent while the transport was down is lost (acks are not replayed, as in socket.io).
      const drops = this.reconnects.length;
      const ack = await this.socket
        .timeout(this.ackTimeoutMs)
        .emitWithAck("send_message", { to_email: this.partner, message: text, client_id: clientId })
        .catch(() => ({ ok: false, error: { code: this.reconnects.length === drops ? "ACK_TIMEOUT" : "ACK_TIMEOUT_ACROSS_DROP" } }));
      if (ack.ok) {
        this.sent.push({ id: ack.message.id, clientId, conversationId: ack.message.conversation_id, attempts });
        return;
      }
      this.sendErrors[ack.error.code] = (this.sendErrors[ack.error.code] ?? 0) + 1;
      await Bun.sleep(ack.error.retry_after_ms ?? 200);
    }
  }

  /** Sends every ~intervalMs (jittered) until stopped; each send waits for its ack. */
  async sendLoop(intervalMs: number): Promise<void> {
    for (let n = 0; !this.stopped; n++) {
      const next = Date.now() + intervalMs * (0.5 + Math.random());
      await this.send(`${this.email.split("@")[0]}-${n}`, `soak ${n} from ${this.email}`);
      await Bun.sleep(Math.max(0, next - Date.now()));
    }
  }

  stopSending(): void {
    this.stopped = true;
  }

  /** The final sync: from the stored cursor to the end. */
  async finalSync(): Promise<void> {
    this.final = true;
    await this.syncing;
    this.needsSync = true;
    for (let i = 0; i < 20 && this.needsSync; i++) {
      await this.waitConnected(10_000);
      await this.catchUp();
    }
  }

  close(): void {
    this.stopped = true;
    this.socket.disconnect();
  }
}
