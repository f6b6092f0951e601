/**
 * One Engine.IO session: its current transport (long-polling or WebSocket),
 * the write buffer, the heartbeat, the polling → websocket upgrade and the
 * close. Transport-specific I/O lives in polling.ts and websocket.ts; this
 * file holds the state machine they share.
 */
import type { ServerWebSocket } from "bun";
import type { CloseReason } from "./errors.ts";
import { encodePollingPacket, encodeText, SEPARATOR, type Packet, type RawData } from "./parser.ts";
import { ReadGate } from "./read-gate.ts";

export type TransportName = "polling" | "websocket";

export interface WsData {
  session: EngineSession | null;
  /** "probe": a polling session upgrading; "direct": websocket from the handshake; "reject": to be closed at open. */
  role: "probe" | "direct" | "reject";
}

export type EngineWs = ServerWebSocket<WsData>;

/** What the layer above (Socket.IO) hears from a session. */
export interface SessionListener {
  onMessage(data: RawData): void;
  onClose(reason: CloseReason): void;
  /** The session moved to WebSocket; its buffer has been flushed. */
  onUpgrade(): void;
  /**
   * A ping was queued, or its pong came back. Everything sent before an answered ping has been read by the
   * client (one ordered stream, polling or websocket): recovery uses that to know what a client surely got.
   */
  onHeartbeat?(phase: "ping" | "pong"): void;
}

export interface SessionTimers {
  pingInterval: number;
  pingTimeout: number;
  upgradeTimeout: number;
}

const noopListener: SessionListener = { onMessage() {}, onClose() {}, onUpgrade() {} };
/** How long a server-closed polling session waits for the GET that carries its close packet. */
const POLLING_CLOSE_GRACE_MS = 10_000;

export class EngineSession {
  transport: TransportName;
  ws: EngineWs | null = null;
  probe: EngineWs | null = null;
  /** Between `2probe` and `5`: writes wait in the buffer; GETs are answered with a noop. */
  upgrading = false;
  state: "open" | "closing" | "closed" = "open";
  listener: SessionListener = noopListener;
  pendingGet: ((body: string) => void) | null = null;
  postActive = false;
  private buffer: Packet[] = [];
  /** Set by holdFlush: the held GET is not answered until releaseFlush (end of the event-loop turn). */
  private held = false;
  private readonly gate = new ReadGate(
    (data) => this.listener.onMessage(data),
    () => this.state !== "closed",
  );
  /** A ping timeout that fell while we were not reading: the pong may be sitting unread behind the pause. */
  private pongOverdue = false;
  private heartbeat: ReturnType<typeof setTimeout> | undefined;
  private upgradeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly id: string,
    transport: TransportName,
    private readonly timers: SessionTimers,
    private readonly onFinalClose: (s: EngineSession) => void,
  ) {
    this.transport = transport;
    this.schedulePing();
  }

  // ---- writing ----------------------------------------------------------------

  /** Sends a message packet (the Socket.IO layer's unit). */
  send(data: RawData): void {
    if (this.state !== "open") return;
    const ws = this.activeWs();
    if (ws) ws.send(typeof data === "string" ? `4${data}` : data);
    else this.enqueue({ type: "message", data });
  }

  /** The WebSocket to write to directly, or null while polling/upgrading. */
  activeWs(): EngineWs | null {
    return this.transport === "websocket" && !this.upgrading ? this.ws : null;
  }

  private sendPacket(p: Packet): void {
    const ws = this.activeWs();
    if (ws) ws.send(encodePollingPacket(p));
    else this.enqueue(p);
  }

  private enqueue(p: Packet): void {
    this.buffer.push(p);
    this.flushPolling();
  }

  /**
   * Keeps what is written from now on in the buffer, even with a GET waiting, until releaseFlush: packets
   * that must reach a polling client together (a broadcast and the offset marker that follows it in the same
   * event-loop turn) leave in one response. Returns false when already held. Never used with recovery off.
   */
  holdFlush(): boolean {
    if (this.held) return false;
    this.held = true;
    return true;
  }

  releaseFlush(): void {
    this.held = false;
    this.flushPolling();
  }

  /** Answers the held GET with everything buffered (not during an upgrade: the buffer moves to the websocket). */
  flushPolling(): void {
    if (!this.pendingGet || this.buffer.length === 0 || this.upgrading || this.held) return;
    const resolve = this.pendingGet;
    this.pendingGet = null;
    resolve(this.takeBuffer());
  }

  takeBuffer(): string {
    const body = this.buffer.map(encodePollingPacket).join(SEPARATOR);
    this.buffer = [];
    return body;
  }

  hasBuffered(): boolean {
    return this.buffer.length > 0;
  }

  // ---- reading ----------------------------------------------------------------

  /** Handles one packet from the client on the active transport. Returns false when the packet is not allowed. */
  onPacket(p: Packet): boolean {
    if (this.state === "closed") return true;
    switch (p.type) {
      case "message":
        this.gate.push(p.data);
        return true;
      case "pong":
        this.schedulePing();
        this.listener.onHeartbeat?.("pong");
        return true;
      case "close":
        this.close("transport close");
        return true;
      default:
        // open/upgrade/noop never come from a client here; a client ping is the v3 heartbeat direction.
        return false;
    }
  }

  // ---- backpressure ---------------------------------------------------------------

  /**
   * The layer above cannot take more messages for now: stop reading. On websocket the socket itself is
   * paused (the client sees TCP backpressure); over polling the current POST is answered only once its
   * packets are consumed, and the client sends no other POST meanwhile. Messages already read wait here.
   */
  pauseReading(): void {
    if (this.state !== "closed" && this.gate.pause()) this.ws?.pause();
  }

  /** Delivers what waited, in order, then reads again (unless a delivery paused it anew). */
  resumeReading(): void {
    if (!this.gate.resume()) return;
    if (this.ws && this.state !== "closed") this.ws.resume();
    if (this.pongOverdue) {
      this.pongOverdue = false;
      this.heartbeat = setTimeout(() => this.onPingTimeout(), this.timers.pingTimeout);
    }
  }

  /** True when nothing received waits for the layer above. */
  readingDone(): boolean {
    return this.state !== "open" || this.gate.idle();
  }

  whenReadingDone(): Promise<void> {
    return this.readingDone() ? Promise.resolve() : this.gate.whenIdle();
  }

  // ---- heartbeat --------------------------------------------------------------

  private schedulePing(): void {
    clearTimeout(this.heartbeat);
    this.pongOverdue = false;
    this.heartbeat = setTimeout(() => {
      this.sendPacket({ type: "ping" });
      this.listener.onHeartbeat?.("ping");
      // The timeout runs from when the ping is queued, as the official server counts it.
      this.heartbeat = setTimeout(() => this.onPingTimeout(), this.timers.pingTimeout);
    }, this.timers.pingInterval);
  }

  private onPingTimeout(): void {
    // While we are not reading, the client's pong may be waiting unread: count the timeout again from resume.
    if (this.gate.paused) this.pongOverdue = true;
    else this.close("ping timeout");
  }

  // ---- upgrade ----------------------------------------------------------------

  startProbe(ws: EngineWs): void {
    this.probe = ws;
    this.upgradeTimer = setTimeout(() => {
      if (this.probe === ws) {
        this.probe = null;
        this.upgrading = false;
        ws.close();
        this.flushPolling();
      }
    }, this.timers.upgradeTimeout);
  }

  /** `2probe` on the probe socket: answer it and release the held GET so the client can pause polling. */
  probed(ws: EngineWs): void {
    ws.send("3probe");
    this.upgrading = true;
    if (this.pendingGet) {
      const resolve = this.pendingGet;
      this.pendingGet = null;
      resolve(encodeText("noop"));
    }
  }

  /** `5` on the probe socket: the websocket becomes the transport; buffered packets go out on it first, in order. */
  upgraded(ws: EngineWs): void {
    clearTimeout(this.upgradeTimer);
    this.probe = null;
    this.ws = ws;
    this.transport = "websocket";
    if (this.gate.paused) ws.pause();
    for (const p of this.buffer) ws.send(p.type === "message" && typeof p.data !== "string" ? p.data : encodePollingPacket(p));
    this.buffer = [];
    this.upgrading = false;
    if (this.pendingGet) {
      const resolve = this.pendingGet;
      this.pendingGet = null;
      resolve(encodeText("noop"));
    }
    this.listener.onUpgrade();
  }

  probeClosed(ws: EngineWs): void {
    if (this.probe !== ws) return;
    clearTimeout(this.upgradeTimer);
    this.probe = null;
    this.upgrading = false;
    this.flushPolling();
  }

  // ---- close ------------------------------------------------------------------

  /**
   * Closes the session. A server-side close on polling delivers what is buffered plus
   * a close packet on the held (or next) GET; on websocket it flushes and closes the socket.
   */
  close(reason: CloseReason, serverSide = false): void {
    if (this.state === "closed") return;
    clearTimeout(this.heartbeat);
    clearTimeout(this.upgradeTimer);
    const wasOpen = this.state === "open";
    const listener = this.listener;
    if (serverSide && this.transport === "polling" && this.state === "open") {
      this.buffer.push({ type: "close" });
      this.state = "closing";
      if (this.pendingGet) this.finishPollingClose();
      else this.heartbeat = setTimeout(() => this.finalize(), POLLING_CLOSE_GRACE_MS);
    } else {
      if (this.pendingGet) {
        const resolve = this.pendingGet;
        this.pendingGet = null;
        // The client asked to close (or the transport died): release its GET with a noop, as the official server does.
        resolve(encodeText(reason === "transport close" ? "noop" : "close"));
      }
      this.finalize();
    }
    if (wasOpen) listener.onClose(reason);
  }

  /** The GET that carries a server-side close packet. */
  finishPollingClose(): void {
    const resolve = this.pendingGet;
    this.pendingGet = null;
    resolve?.(this.takeBuffer());
    this.finalize();
  }

  private finalize(): void {
    this.state = "closed";
    clearTimeout(this.heartbeat);
    this.buffer = [];
    const ws = this.ws;
    const probe = this.probe;
    this.ws = null;
    this.probe = null;
    if (ws) ws.data.session = null;
    if (probe) probe.data.session = null;
    ws?.close();
    probe?.close();
    this.listener = noopListener;
    this.gate.clear();
    this.onFinalClose(this);
  }
}
