/**
 * Socket.IO v5 server on our Engine.IO server, for Bun.serve:
 *   const io = createSocketIOServer(opts);
 *   const server = Bun.serve({ fetch: (req, srv) => { const r = io.handleRequest(req, srv); return r === null ? app.fetch(req) : r; },
 *                              websocket: io.websocket });
 *   io.attach(server);
 * The familiar API (`io.use`, `io.on("connection")`, `io.to(room).emit`, `socket.join`) with rooms on Bun topics.
 */
import type { Server, WebSocketHandler } from "bun";
import { EngineServer, type EngineResult } from "../engine/server.ts";
import type { WsData } from "../engine/session.ts";
import type { BroadcastOperator } from "./broadcast.ts";
import { Client } from "./client.ts";
import { Namespace, type Middleware } from "./namespace.ts";
import type { RecoveryOptions } from "./recovery.ts";
import { NO_OBSERVER, type SocketIOObserver } from "./observer.ts";
import type { Socket } from "./socket.ts";
import { LOCAL_BUS, type BroadcastBus } from "./bus.ts";
import type { ClusterReplay } from "./cluster-replay.ts";

export type { Middleware } from "./namespace.ts";
export type { RecoveryOptions } from "./recovery.ts";
export type { Socket, DisconnectReason } from "./socket.ts";
export type { SocketIOObserver } from "./observer.ts";

export interface SocketIOOptions {
  path?: string;
  pingInterval?: number;
  pingTimeout?: number;
  upgradeTimeout?: number;
  maxHttpBufferSize?: number;
  connectTimeout?: number;
  cors?: { origins: string[] | "*"; credentials?: boolean };
  maxAttachments?: number;
  /** Packets one polling POST may carry; beyond, the session is closed as for an oversized payload (413). */
  maxPacketsPerPayload?: number;
  /**
   * Event handler calls one socket may have in flight; beyond, the server stops reading from the client
   * (backpressure) until one finishes. A call is finished when its ack is sent, or when the promises its
   * listeners returned have settled, or, with neither an ack asked for nor a promise returned, when they return.
   */
  maxHandlersInFlight?: number;
  /** Origins allowed to connect (403 for others; no Origin header and the server's own origin pass). Unset or "*": no check. */
  allowedOrigins?: string[] | "*";
  allowRequest?: (req: Request) => boolean | Promise<boolean>;
  /**
   * Connection state recovery (off by default; the official protocol suites require it off): CONNECT replies
   * carry a `pid`, broadcasts an offset, and a client back within `maxDisconnectionDuration` resumes its socket.
   */
  connectionStateRecovery?: RecoveryOptions;
  /** Cluster mode: carries broadcasts between processes (default: none, a single process). */
  bus?: BroadcastBus;
  /** Cluster mode with recovery: sessions resumable on another process (see cluster-replay.ts). */
  clusterReplay?: ClusterReplay;
  /** Where errors thrown by application handlers go (they never crash the server). */
  onError?: (err: unknown, event: string) => void;
  /** Hooks for metrics: connections, disconnect reasons, events in and out. */
  observer?: SocketIOObserver;
}

const DEFAULTS = {
  path: "/socket.io/",
  pingInterval: 25_000,
  pingTimeout: 20_000,
  upgradeTimeout: 10_000,
  maxHttpBufferSize: 1e6,
  connectTimeout: 45_000,
  maxAttachments: 10,
  // Above a realistic offline buffer: the official client packs its whole write buffer into one POST (split by bytes only).
  maxPacketsPerPayload: 1000,
  maxHandlersInFlight: 32,
};

export class SocketIOServer {
  readonly engine: EngineServer;
  readonly websocket: WebSocketHandler<WsData>;
  private readonly namespaces = new Map<string, Namespace>();
  private server: Server<unknown> | null = null;
  private readonly onError: (err: unknown, event: string) => void;
  private readonly recovery: RecoveryOptions | undefined;
  private readonly observer: SocketIOObserver;
  private readonly bus: BroadcastBus;
  private readonly replay: ClusterReplay | undefined;

  constructor(opts: SocketIOOptions = {}) {
    const o = { ...DEFAULTS, ...opts };
    this.recovery = opts.connectionStateRecovery;
    this.observer = opts.observer ?? NO_OBSERVER;
    this.bus = opts.bus ?? LOCAL_BUS;
    this.replay = opts.clusterReplay;
    this.bus.onRemote((nsp, frames, rooms, except, cseq) => this.namespaces.get(nsp)?.deliverRemote(frames, rooms, except, cseq));
    this.onError = opts.onError ?? ((err, event) => console.error(`socket.io handler for "${event}" failed:`, err));
    const path = o.path.endsWith("/") ? o.path : `${o.path}/`;
    this.engine = new EngineServer({
      path,
      pingInterval: o.pingInterval,
      pingTimeout: o.pingTimeout,
      upgradeTimeout: o.upgradeTimeout,
      maxHttpBufferSize: o.maxHttpBufferSize,
      maxPacketsPerPayload: o.maxPacketsPerPayload,
      allowedOrigins: o.allowedOrigins,
      cors: { origins: o.cors?.origins ?? [], credentials: o.cors?.credentials ?? true },
      allowRequest: o.allowRequest,
    });
    this.websocket = this.engine.websocket;
    const ctx = {
      namespace: (name: string) => this.namespaces.get(name),
      connectTimeout: o.connectTimeout,
      maxAttachments: o.maxAttachments,
      maxHandlersInFlight: o.maxHandlersInFlight,
      onError: this.onError,
    };
    this.engine.onConnection = (session, handshake) => new Client(session, handshake, ctx);
    this.of("/");
  }

  of(name: string): Namespace {
    const key = name.startsWith("/") ? name : `/${name}`;
    let nsp = this.namespaces.get(key);
    if (!nsp) this.namespaces.set(key, (nsp = new Namespace(key, () => this.server, this.onError, this.observer, this.recovery, this.bus, this.replay)));
    return nsp;
  }

  private get main(): Namespace {
    return this.of("/");
  }

  use(mw: Middleware): this {
    this.main.use(mw);
    return this;
  }

  on(event: "connection" | "connect", fn: (s: Socket) => void): this {
    this.main.on(event, fn);
    return this;
  }

  to(room: string | string[]): BroadcastOperator {
    return this.main.to(room);
  }

  in(room: string | string[]): BroadcastOperator {
    return this.main.in(room);
  }

  except(room: string | string[]): BroadcastOperator {
    return this.main.except(room);
  }

  emit(event: string, ...args: unknown[]): boolean {
    return this.main.emit(event, ...args);
  }

  get sockets(): Namespace {
    return this.main;
  }

  /** Null when the request is not under our path; undefined when upgraded to a websocket. */
  handleRequest(req: Request, server: Server<unknown>): EngineResult {
    this.server ??= server;
    return this.engine.handleRequest(req, server);
  }

  attach(server: Server<unknown>): void {
    this.server = server;
  }

  async close(): Promise<void> {
    await this.engine.close();
    for (const nsp of this.namespaces.values()) nsp.recovery?.close();
  }
}

export function createSocketIOServer(opts?: SocketIOOptions): SocketIOServer {
  return new SocketIOServer(opts);
}
