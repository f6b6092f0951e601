/**
 * Connection state recovery (Socket.IO ≥ 4.6): a socket that lost its transport for a moment comes back with
 * the same id, rooms and `data`, and gets every broadcast it missed, in order.
 *
 * One log per namespace: each broadcast EVENT gets ONE log sequence, and the log keeps its frame once, with its
 * target. Application events stay as the application emitted them (no extra argument, so fixed-arity handlers
 * of python, Java, Go and Rust clients work unchanged); the client learns its offset from a separate marker
 * event sent after the broadcasts it covers (offset-markers.ts). A returning session replays the entries after
 * its offset that its rooms would have received. Memory is bounded: entries older than
 * `maxDisconnectionDuration` or beyond `maxBufferBytes` in total are dropped, and a session whose replay
 * would exceed `maxSessionReplayBytes` (or whose offset is no longer covered) is not recovered: it gets a
 * normal new connection (`recovered === false`), as with the official server.
 * @see https://github.com/socketio/socket.io/blob/main/docs/socket.io-protocol/v5-current.md#connection-state-recovery
 * @see https://socket.io/docs/v4/connection-state-recovery
 */
import type { RawData } from "../engine/parser.ts";
import { randomBytes } from "node:crypto";
import type { BroadcastTarget } from "./adapter.ts";

export interface RecoveryOptions {
  /** How long a disconnected session can be recovered, ms (default 120,000, as socket.io). */
  maxDisconnectionDuration?: number;
  /** Recovered sockets skip the namespace middlewares (default true, as socket.io). */
  skipMiddlewares?: boolean;
  /** Bytes of broadcast frames kept for replay, per namespace, all sessions together (default 16 MiB). */
  maxBufferBytes?: number;
  /** Most bytes replayed to one session; beyond, it is not recovered (default 1 MiB). */
  maxSessionReplayBytes?: number;
}

export const RECOVERY_DEFAULTS: Required<RecoveryOptions> = {
  maxDisconnectionDuration: 120_000,
  skipMiddlewares: true,
  maxBufferBytes: 16 * 1024 * 1024,
  maxSessionReplayBytes: 1024 * 1024,
};

interface LogEntry {
  seq: number;
  at: number;
  bytes: number;
  frames: RawData[];
  rooms: ReadonlySet<string>;
  except: ReadonlySet<string>;
  exceptId: string | undefined;
  /** Cluster sequence of a broadcast received from another process (cluster mode). */
  cseq: number | undefined;
}

/** What a disconnected socket leaves behind for its return. */
export interface PersistedSession {
  sid: string;
  pid: string;
  rooms: string[];
  data: Record<string, unknown>;
  disconnectedAt: number;
  /** First log sequence the client may not have received (its connect or the start of its replay, or its last answered ping). */
  sinceSeq: number;
  /** Cluster mode: the cluster offset taken with `sinceSeq`. */
  sinceCluster?: number;
}

/** The bytes of a packet's frames (text length, binary size), as the replay limits count them. */
export const frameBytes = (frames: RawData[]) => frames.reduce<number>((n, f) => n + (typeof f === "string" ? f.length : f.byteLength), 0);

export class RecoveryLog {
  readonly opts: Required<RecoveryOptions>;
  private entries: LogEntry[] = [];
  /** Index in `entries` of the oldest kept entry (dropped ones are compacted away in batches). */
  private head = 0;
  private seq = 0;
  private bytes = 0;
  private readonly sessions = new Map<string, PersistedSession>();
  private readonly sweeper: ReturnType<typeof setInterval>;
  /**
   * Tags this log's offsets. The official client takes the last string argument of ANY event as its offset,
   * so an application string (`emit("chat", "hello")`) may be what it presents: without the tag, "hello" would
   * read as a base-36 sequence and start the replay at a wrong place; with it, it is unknown (not recovered).
   */
  readonly epoch = randomBytes(4).readUInt32BE().toString(36);
  /** Cluster mode: the cluster offset markers carry after the local one (see cluster-replay.ts). */
  clusterOffset: (() => number) | undefined;

  constructor(opts: RecoveryOptions = {}) {
    this.opts = { ...RECOVERY_DEFAULTS, ...opts };
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.min(60_000, this.opts.maxDisconnectionDuration));
    this.sweeper.unref();
  }

  /** The sequence the next broadcast gets (a socket connecting now has seen everything before it). */
  get nextSeq(): number {
    return this.seq;
  }

  /**
   * The offset a client holds once it has been sent every broadcast before `nextSeq` that reached it (null when
   * nothing was ever broadcast): the newest sequence in base 36, then this log's tag (`<seq>.<epoch>`).
   */
  currentOffset(): string | null {
    if (this.seq === 0) return null;
    const local = `${(this.seq - 1).toString(36)}.${this.epoch}`;
    return this.clusterOffset ? `${local}.${this.clusterOffset().toString(36)}` : local;
  }

  /** Logs a broadcast (its frames as sent, without any offset); returns its sequence. */
  append(frames: RawData[], target: BroadcastTarget, cseq?: number): number {
    const now = Date.now();
    const bytes = frameBytes(frames);
    const seq = this.seq++;
    this.entries.push({ seq, at: now, bytes, frames, rooms: target.rooms, except: target.except, exceptId: target.exceptSocket?.id, cseq });
    this.bytes += bytes;
    this.evict(now);
    return seq;
  }

  /**
   * Cluster recovery: entries from sequence `from` on that reach a session in `rooms`, leaving out those received
   * from other processes up to cluster sequence `upTo` (the shared buffer replays them); null if no longer covered.
   */
  since(from: number, sid: string, rooms: ReadonlySet<string>, upTo: number): RawData[][] | null {
    const first = this.entries[this.head]?.seq ?? this.seq;
    if (from < first || from > this.seq) return null;
    const out: RawData[][] = [];
    for (let i = this.head + (from - first); i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (e.cseq !== undefined && e.cseq <= upTo) continue;
      if (reaches(e, sid, rooms)) out.push(e.frames);
    }
    return out;
  }

  /** A client offset's parts: the local sequence and epoch, and the cluster offset when present. */
  static parseOffset(offset: unknown): { seq: number; epoch: string; cluster: number | undefined } | null {
    if (typeof offset !== "string" || offset.length > 40) return null;
    const m = /^([0-9a-z]{1,11})\.([0-9a-z]{1,8})(?:\.([0-9a-z]{1,11}))?$/.exec(offset);
    if (!m) return null;
    const seq = parseInt(m[1]!, 36);
    const cluster = m[3] === undefined ? undefined : parseInt(m[3], 36);
    return { seq, epoch: m[2]!, cluster };
  }

  persist(session: PersistedSession): void {
    this.sessions.set(session.pid, session);
  }

  /** A persisted session, without taking it. */
  peek(pid: string): PersistedSession | undefined {
    return this.sessions.get(pid);
  }

  /** Takes (once) a session still within the window; null otherwise. */
  take(pid: string, now = Date.now()): PersistedSession | null {
    const s = this.sessions.get(pid);
    if (!s) return null;
    this.sessions.delete(pid);
    return s.disconnectedAt + this.opts.maxDisconnectionDuration >= now ? s : null;
  }

  /**
   * The frames `session` missed after `offset` and after what it surely received (`sinceSeq`), in order, and the
   * sequence they start from; null when the log no longer covers them or they exceed the cap.
   */
  missed(session: PersistedSession, offset: unknown): { frames: RawData[][]; from: number } | null {
    let from = session.sinceSeq;
    if (offset !== undefined) {
      const seq = this.parse(offset);
      if (seq === null) return null;
      from = Math.max(from, seq + 1);
    }
    const first = this.entries[this.head]?.seq ?? this.seq;
    if (from < first || from > this.seq) return null;
    const rooms = new Set(session.rooms);
    const out: RawData[][] = [];
    let bytes = 0;
    for (let i = this.head + (from - first); i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (!reaches(e, session.sid, rooms)) continue;
      bytes += e.bytes;
      if (bytes > this.opts.maxSessionReplayBytes) return null;
      out.push(e.frames);
    }
    return { frames: out, from };
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sessions.clear();
    this.entries = [];
    this.head = 0;
    this.bytes = 0;
  }

  private parse(offset: unknown): number | null {
    const o = RecoveryLog.parseOffset(offset);
    if (!o || o.epoch !== this.epoch) return null;
    return Number.isSafeInteger(o.seq) && o.seq >= 0 && o.seq < this.seq ? o.seq : null;
  }

  private evict(now: number): void {
    const oldest = now - this.opts.maxDisconnectionDuration;
    while (this.head < this.entries.length) {
      const e = this.entries[this.head]!;
      if (this.bytes <= this.opts.maxBufferBytes && e.at >= oldest) break;
      this.bytes -= e.bytes;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  private sweep(now: number): void {
    this.evict(now);
    for (const [pid, s] of this.sessions) if (s.disconnectedAt + this.opts.maxDisconnectionDuration < now) this.sessions.delete(pid);
  }
}

/** Whether a broadcast reached a socket in `rooms` (its own id included), as the official adapter decides. */
function reaches(e: LogEntry, sid: string, rooms: ReadonlySet<string>): boolean {
  return e.exceptId !== sid && reachesRooms(e.rooms, e.except, rooms);
}

/** Whether a broadcast to `targets` (none: everyone) except `except` reached a socket in `rooms`. */
export function reachesRooms(targets: Iterable<string>, except: Iterable<string>, rooms: ReadonlySet<string>): boolean {
  for (const r of except) if (rooms.has(r)) return false;
  let any = false;
  for (const r of targets) {
    if (rooms.has(r)) return true;
    any = true;
  }
  return !any;
}
