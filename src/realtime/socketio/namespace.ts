/**
 * A namespace: its sockets, rooms, connection middleware and listeners.
 */
import type { Server } from "bun";
import { RoomAdapter } from "./adapter.ts";
import { BroadcastOperator } from "./broadcast.ts";
import type { RawData } from "../engine/parser.ts";
import { OffsetMarkers } from "./offset-markers.ts";
import { RecoveryLog, type RecoveryOptions } from "./recovery.ts";
import type { SocketIOObserver } from "./observer.ts";
import type { Socket } from "./socket.ts";
import { LOCAL_BUS, type BroadcastBus } from "./bus.ts";
import type { ClusterReplay } from "./cluster-replay.ts";

export type Middleware = (socket: Socket, next: (err?: Error & { data?: unknown }) => void) => void | Promise<void>;

export class Namespace {
  readonly sockets = new Map<string, Socket>();
  readonly adapter: RoomAdapter;
  /** Set when connection state recovery is on: offsets for broadcasts and the replay log. */
  readonly recovery: RecoveryLog | undefined;
  /** Offset markers that follow broadcasts (recovery on only). */
  readonly markers: OffsetMarkers | undefined;
  /** Cluster mode with recovery: sessions resumable on another process. */
  readonly replay: ClusterReplay | undefined;
  /** Sockets whose shared snapshot is to be written at the end of this turn. */
  private dirty: Set<Socket> | undefined;
  /** Connected sockets by private session id (recovery on only). */
  private readonly byPid = new Map<string, Socket>();
  private readonly middlewares: Middleware[] = [];
  private readonly connectionListeners: ((s: Socket) => void)[] = [];

  constructor(
    readonly name: string,
    server: () => Server<unknown> | null,
    private readonly onError: (err: unknown, event: string) => void,
    readonly observer: SocketIOObserver,
    recovery?: RecoveryOptions,
    /** Carries broadcasts to and from the other processes of a cluster (in-process: nothing to carry). */
    readonly bus: BroadcastBus = LOCAL_BUS,
    replay?: ClusterReplay,
  ) {
    this.adapter = new RoomAdapter(name, server, (id) => this.sockets.get(id), bus);
    bus.subscribe(name, null);
    this.recovery = recovery ? new RecoveryLog(recovery) : undefined;
    this.markers = this.recovery ? new OffsetMarkers(this, this.recovery) : undefined;
    this.replay = this.recovery ? replay : undefined;
    if (this.recovery && this.replay) this.recovery.clusterOffset = this.replay.clusterOffset;
    const markers = this.markers;
    if (markers) this.adapter.onPollingWrite = (s) => markers.hold(s.session);
  }

  use(mw: Middleware): this {
    this.middlewares.push(mw);
    return this;
  }

  on(event: "connection" | "connect", fn: (s: Socket) => void): this {
    if (event === "connection" || event === "connect") this.connectionListeners.push(fn);
    return this;
  }

  to(room: string | string[]): BroadcastOperator {
    return new BroadcastOperator(this).to(room);
  }

  in(room: string | string[]): BroadcastOperator {
    return this.to(room);
  }

  except(room: string | string[]): BroadcastOperator {
    return new BroadcastOperator(this).except(room);
  }

  emit(event: string, ...args: unknown[]): boolean {
    return new BroadcastOperator(this).emit(event, ...args);
  }

  /**
   * A broadcast from another process of the cluster, for this process's members of `rooms` (null: every socket)
   * minus `except`: logged for recovery, delivered and followed by its offset marker as a local one would be.
   */
  deliverRemote(frames: RawData[], rooms: string[] | null, except: ReadonlySet<string>, cseq: number): void {
    const target = { rooms: new Set(rooms ?? []), except };
    this.recovery?.append(frames, target, cseq);
    this.adapter.broadcast(frames, target, this.sockets.values());
    this.markers?.add(target);
  }

  fetchSocketIds(room: string): string[] {
    return [...(this.adapter.members(room) ?? [])].map((s) => s.id);
  }

  roomSize(room: string): number {
    return this.adapter.members(room)?.size ?? 0;
  }

  /** Runs the middleware chain; resolves with the first error, or undefined when all passed. */
  async runMiddlewares(socket: Socket): Promise<(Error & { data?: unknown }) | undefined> {
    for (const mw of this.middlewares) {
      const err = await new Promise<(Error & { data?: unknown }) | undefined>((resolve) => {
        try {
          const r = mw(socket, (e) => resolve(e ?? undefined));
          if (r instanceof Promise) r.catch((e: unknown) => resolve(e instanceof Error ? e : new Error(String(e))));
        } catch (e) {
          resolve(e instanceof Error ? e : new Error(String(e)));
        }
      });
      if (err) return err;
    }
    return undefined;
  }

  /**
   * The socket passed the middlewares and got its CONNECT reply: join its rooms, replay what a recovered
   * socket missed (before anything the connection listeners send), then announce it.
   */
  connected(socket: Socket, restored?: { rooms: string[]; frames: RawData[][]; from: number; fromCluster?: number }): void {
    this.sockets.set(socket.id, socket);
    socket.join(socket.id);
    if (restored) {
      socket.join(restored.rooms);
      // Over polling, the replay and its marker leave in one response.
      const held = socket.session.holdFlush();
      for (const frames of restored.frames) socket.sendFrames(frames);
      // The client still holds the offset it came back with; everything logged so far has now been replayed to it
      // or never reached it, so it gets the current offset (else its next recovery would rely on sinceSeq alone).
      const marker = this.markers?.frames();
      if (marker) socket.sendFrames(marker);
      if (held) socket.session.releaseFlush();
    }
    // What the client surely read: everything before its connect, but for a recovered socket only what came before its
    // replay (queued, not yet read: a drop before the replay's marker is read must replay it again, not lose it).
    if (this.recovery) socket.sinceSeq = restored ? restored.from : this.recovery.nextSeq;
    if (this.replay) socket.sinceCluster = restored?.fromCluster ?? this.replay.clusterOffset();
    if (socket.pid) this.byPid.set(socket.pid, socket);
    this.sessionChanged(socket);
    this.observer.connected();
    for (const fn of this.connectionListeners) {
      try {
        fn(socket);
      } catch (err) {
        this.onError(err, "connection");
      }
    }
  }

  /** Cluster mode: the socket's rooms or cut changed; its shared snapshot is rewritten once at the end of the turn. */
  sessionChanged(socket: Socket): void {
    if (!this.replay || !socket.pid) return;
    if (!this.dirty) {
      this.dirty = new Set();
      setImmediate(this.flushSnapshots);
    }
    this.dirty.add(socket);
  }

  private readonly flushSnapshots = (): void => {
    const dirty = this.dirty;
    this.dirty = undefined;
    if (!dirty || !this.replay || !this.recovery) return;
    for (const s of dirty) {
      // Connected, or disconnected but recoverable (then the rooms are the ones it had when it went).
      const rooms = s.connected ? [...s.rooms] : (this.recovery.peek(s.pid!)?.rooms ?? null);
      if (rooms === null) continue;
      this.replay.save(s.pid!, { nsp: this.name, sid: s.id, epoch: this.recovery.epoch, rooms, sinceSeq: s.sinceSeq, sinceCluster: s.sinceCluster });
    }
  };

  detach(socket: Socket): void {
    this.sockets.delete(socket.id);
    if (socket.pid && this.byPid.get(socket.pid) === socket) this.byPid.delete(socket.pid);
  }

  socketByPid(pid: string): Socket | undefined {
    return this.byPid.get(pid);
  }
}
