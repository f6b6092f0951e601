/**
 * A Socket.IO socket: one client connected to one namespace over one Engine.IO
 * session. Events in (with ack functions), events out (with ack callbacks and
 * emitWithAck), rooms, and the disconnect lifecycle.
 */
import type { RawData } from "../engine/parser.ts";
import type { EngineSession } from "../engine/session.ts";
import { BroadcastOperator } from "./broadcast.ts";
import type { Namespace } from "./namespace.ts";
import { encodePacket, SioType, type SioPacket } from "./parser.ts";

/** Disconnects after which the session is kept for recovery (the socket.io list). */
const RECOVERABLE: ReadonlySet<DisconnectReason> = new Set([
  "transport error",
  "transport close",
  "forced close",
  "ping timeout",
  "server shutting down",
  "forced server close",
]);

export type DisconnectReason =
  | "transport error"
  | "transport close"
  | "forced close"
  | "ping timeout"
  | "parse error"
  | "server shutting down"
  | "forced server close"
  | "client namespace disconnect"
  | "server namespace disconnect"
  | "payload too large";

export interface SocketHandshake {
  auth: Record<string, unknown>;
  query: Record<string, string>;
  headers: Record<string, string>;
  address: string;
  time: string;
  issued: number;
  url: string;
  secure: boolean;
}

type Listener = (...args: any[]) => unknown;

/** Bounds the handler calls a socket has in flight; the client pauses reading while a socket is saturated. */
export interface HandlerFlow {
  max: number;
  saturated(socket: Socket, on: boolean): void;
}
type AckCallback = (...args: unknown[]) => void;

export class AckTimeoutError extends Error {
  constructor() {
    super("operation has timed out");
    this.name = "AckTimeoutError";
  }
}

export class Socket {
  data: Record<string, unknown> = {};
  connected = true;
  readonly rooms = new Set<string>();
  private listeners: Map<string, Listener[]> | undefined;
  private anyListeners: Listener[] | undefined;
  private acks: Map<number, AckCallback> | undefined;
  private nextAckId = 0;
  private inFlight = 0;
  /** Private session id, sent in the CONNECT reply when recovery is on; a reconnect presents it. */
  readonly pid: string | undefined;
  /** True when this socket resumed a disconnected one (same id, rooms, data; missed packets replayed). */
  readonly recovered: boolean;
  /** First recovery-log sequence the client may not have received: set at connect, advanced by answered pings. */
  sinceSeq = 0;
  private pingSeq = 0;
  /** Cluster mode: the cluster offset taken together with `sinceSeq` (see cluster-replay.ts). */
  sinceCluster = 0;
  private pingCluster = 0;
  /** Cluster mode: the cut of the last shared snapshot asked for here, and when (a pong that moves nothing rewrites none). */
  private savedSeq = -1;
  private savedCluster = -1;
  private savedAt = 0;

  constructor(
    readonly id: string,
    readonly nsp: Namespace,
    readonly session: EngineSession,
    readonly handshake: SocketHandshake,
    private readonly onError: (err: unknown, event: string) => void,
    private readonly detach: (s: Socket) => void,
    private readonly flow: HandlerFlow,
    recovery?: { pid: string; recovered: boolean },
  ) {
    this.pid = recovery?.pid;
    this.recovered = recovery?.recovered ?? false;
  }

  on(event: string, handler: Listener): this {
    this.listeners ??= new Map();
    const list = this.listeners.get(event);
    if (list) list.push(handler);
    else this.listeners.set(event, [handler]);
    return this;
  }

  off(event: string, handler: Listener): this {
    const list = this.listeners?.get(event);
    if (list) this.listeners!.set(event, list.filter((h) => h !== handler));
    return this;
  }

  onAny(handler: (event: string, ...args: any[]) => void): this {
    (this.anyListeners ??= []).push(handler);
    return this;
  }

  /** Emits to this client; a function as last argument is an ack callback. */
  emit(event: string, ...args: unknown[]): boolean {
    if (!this.connected) return false;
    let id: number | undefined;
    const last = args[args.length - 1];
    if (typeof last === "function") {
      args.pop();
      id = this.nextAckId++;
      (this.acks ??= new Map()).set(id, last as AckCallback);
    }
    this.sendPacket({ type: SioType.EVENT, nsp: this.nsp.name, id, data: [event, ...args] });
    this.nsp.observer.eventEmitted(event);
    return true;
  }

  emitWithAck(event: string, ...args: unknown[]): Promise<unknown> {
    return new Promise((resolve) => this.emit(event, ...args, (res: unknown) => resolve(res)));
  }

  timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> } {
    return {
      emitWithAck: (event, ...args) =>
        new Promise((resolve, reject) => {
          let id = -1;
          const timer = setTimeout(() => {
            this.acks?.delete(id);
            reject(new AckTimeoutError());
          }, ms);
          id = this.nextAckId;
          this.emit(event, ...args, (res: unknown) => {
            clearTimeout(timer);
            resolve(res);
          });
        }),
    };
  }

  join(room: string | string[]): void {
    for (const r of Array.isArray(room) ? room : [room]) {
      if (this.rooms.has(r)) continue;
      this.rooms.add(r);
      this.nsp.adapter.join(this, r);
    }
    this.snapshotChanged();
  }

  leave(room: string): void {
    if (!this.rooms.delete(room)) return;
    this.nsp.adapter.leave(this, room);
    if (this.connected) this.snapshotChanged();
  }

  /** Broadcast to a room, excluding this socket. */
  to(room: string | string[]): BroadcastOperator {
    return new BroadcastOperator(this.nsp).exceptSocket(this).to(room);
  }

  except(room: string | string[]): BroadcastOperator {
    return new BroadcastOperator(this.nsp).exceptSocket(this).except(room);
  }

  get broadcast(): BroadcastOperator {
    return new BroadcastOperator(this.nsp).exceptSocket(this);
  }

  /** Disconnects this namespace (the client will not reconnect by itself); `close` also closes the whole connection. */
  disconnect(close = false): this {
    if (!this.connected) return this;
    this.sendPacket({ type: SioType.DISCONNECT, nsp: this.nsp.name });
    this.onclose(close ? "forced server close" : "server namespace disconnect");
    if (close) this.session.close("forced close", true);
    return this;
  }

  // ---- called by the client / namespace ----------------------------------------

  /**
   * A client that answers a ping has read every broadcast queued before it, so a later recovery need not
   * reach back further: a quiet client (no offset, or an old one) stays recoverable however long it was connected.
   */
  heartbeat(phase: "ping" | "pong"): void {
    const log = this.nsp.recovery;
    if (!log) return;
    const replay = this.nsp.replay;
    if (phase === "ping") {
      this.pingSeq = log.nextSeq;
      if (replay) this.pingCluster = replay.clusterOffset();
    } else {
      this.sinceSeq = Math.max(this.sinceSeq, this.pingSeq);
      if (replay) {
        this.sinceCluster = Math.max(this.sinceCluster, this.pingCluster);
        // Rewritten when the cut moved, or to keep the snapshot alive: it expires after the recovery window plus
        // a minute (redis-replay.ts), so half the window is always well inside that.
        const stale = Date.now() - this.savedAt >= log.opts.maxDisconnectionDuration / 2;
        if (stale || this.sinceSeq !== this.savedSeq || this.sinceCluster !== this.savedCluster) this.snapshotChanged();
      }
    }
  }

  /** The rooms or the cut changed: the shared snapshot (cluster mode) is rewritten at the end of the turn. */
  private snapshotChanged(): void {
    this.savedSeq = this.sinceSeq;
    this.savedCluster = this.sinceCluster;
    this.savedAt = Date.now();
    this.nsp.sessionChanged(this);
  }

  sendPacket(p: SioPacket): void {
    this.sendFrames(encodePacket(p));
  }

  sendFrames(frames: RawData[]): void {
    for (const f of frames) this.session.send(f);
  }

  /**
   * An EVENT from the client. The call counts as in flight until its ack is sent, or until the promises
   * the listeners returned have settled, or (no ack asked for, no promise returned) until they return.
   */
  dispatchEvent(args: unknown[], id: number | undefined): void {
    const done = this.startCall();
    if (id !== undefined) {
      let sent = false;
      args.push((...res: unknown[]) => {
        if (sent || !this.connected) return;
        sent = true;
        this.sendPacket({ type: SioType.ACK, nsp: this.nsp.name, id, data: res });
        done();
      });
    }
    const event = String(args[0]);
    this.nsp.observer.eventReceived(event);
    const rest = args.slice(1);
    let pending: Promise<unknown>[] | undefined;
    let heard = false;
    const call = (h: Listener, argv: unknown[]) => {
      heard = true;
      const r = this.safeCall(h, event, argv);
      if (r) (pending ??= []).push(r);
    };
    if (this.anyListeners) for (const h of this.anyListeners) call(h, [event, ...rest]);
    const list = this.listeners?.get(event);
    if (list) for (const h of list) call(h, rest);
    if (pending) void Promise.allSettled(pending).then(done);
    else if (id === undefined || !heard) done();
  }

  /** Counts a handler call; returns the function that ends it (once). */
  private startCall(): () => void {
    if (++this.inFlight === this.flow.max) this.flow.saturated(this, true);
    let ended = false;
    return () => {
      if (ended || !this.connected) return;
      ended = true;
      if (this.inFlight-- === this.flow.max) this.flow.saturated(this, false);
    };
  }

  /** An ACK from the client. */
  dispatchAck(id: number | undefined, args: unknown[]): void {
    if (id === undefined) return;
    const cb = this.acks?.get(id);
    if (!cb) return;
    this.acks!.delete(id);
    try {
      cb(...args);
    } catch (err) {
      this.onError(err, "ack");
    }
  }

  onclose(reason: DisconnectReason, description?: unknown): void {
    if (!this.connected) return;
    this.emitReserved("disconnecting", reason, description);
    const log = this.nsp.recovery;
    if (log && this.pid && RECOVERABLE.has(reason)) {
      log.persist({ sid: this.id, pid: this.pid, rooms: [...this.rooms], data: this.data, disconnectedAt: Date.now(), sinceSeq: this.sinceSeq, sinceCluster: this.sinceCluster });
      // The shared snapshot as it is now, for a return to another node.
      this.snapshotChanged();
    } else if (this.pid) this.nsp.replay?.drop(this.pid);
    for (const r of [...this.rooms]) this.leave(r);
    this.connected = false;
    if (this.inFlight >= this.flow.max) this.flow.saturated(this, false);
    this.inFlight = 0;
    this.detach(this);
    this.acks?.clear();
    this.nsp.observer.disconnected(reason);
    this.emitReserved("disconnect", reason, description);
  }

  private emitReserved(event: string, ...args: unknown[]): void {
    const list = this.listeners?.get(event);
    if (list) for (const h of list) this.safeCall(h, event, args);
  }

  /** Calls a listener; a returned promise comes back settled-safe (its rejection is reported). */
  private safeCall(h: Listener, event: string, args: unknown[]): Promise<unknown> | undefined {
    try {
      const r: unknown = h(...args);
      if (r instanceof Promise) return r.catch((err) => this.onError(err, event));
    } catch (err) {
      this.onError(err, event);
    }
    return undefined;
  }
}
