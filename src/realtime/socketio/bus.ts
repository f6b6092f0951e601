/**
 * The bus under the room adapter: how a broadcast made on this process reaches the other processes of a
 * cluster, and how they tell it which rooms they want to hear about. Chat-agnostic (rooms and frames only).
 * The in-process default does nothing (a single process is the whole service); a Redis bus (src/cluster)
 * is cluster mode. Interest is per room: the adapter subscribes when a room gets its first local member and
 * unsubscribes when it loses its last, so a process receives a room's traffic only while it has members in it.
 */
import type { RawData } from "../engine/parser.ts";

/** A broadcast as it travels between processes (the sending socket is on the sender's process, so not named). */
export interface BusBroadcast {
  nsp: string;
  frames: RawData[];
  /** Target rooms in order (empty: every socket of the namespace). */
  rooms: string[];
  except: string[];
  /** The origin's recovery log epoch and this broadcast's sequence in it (recovery on). */
  epoch?: string;
  seq?: number;
}

export interface BroadcastBus {
  /** A broadcast made here (already delivered to this process's sockets): send it to the other processes. */
  publish(b: BusBroadcast): void;
  /** This process now has members in `room` of `nsp` (null: the namespace itself, for broadcasts to all): deliver its broadcasts here. */
  subscribe(nsp: string, room: string | null): void;
  /** This process has no members left in `room`. */
  unsubscribe(nsp: string, room: string | null): void;
  /**
   * Where broadcasts from other processes go: each is delivered once per process, to the target rooms this
   * process has members in (`rooms`; null: every socket of the namespace) minus `except`, exactly as if it had been
   * made here (a socket in several of the rooms gets it once).
   */
  onRemote(fn: (nsp: string, frames: RawData[], rooms: string[] | null, except: ReadonlySet<string>, cseq: number) => void): void;
}

export const LOCAL_BUS: BroadcastBus = {
  publish() {},
  subscribe() {},
  unsubscribe() {},
  onRemote() {},
};
