/**
 * Connection state recovery across processes (cluster mode), the protocol side: chat-agnostic. Every broadcast
 * that crosses the bus gets a cluster-wide sequence (`cseq`) and is kept in a shared replay buffer with the
 * origin's own log position; every process knows the highest cseq it has received (`clusterOffset`, in order),
 * and offset markers carry it after the local offset (`<seq>.<epoch>.<cseq>`). A session's snapshot (rooms and
 * what the client surely has) is kept shared while it is connected, so when its process dies another one can
 * resume it: the entries after the client's cut, minus the ones it already had from its first process (by origin
 * position), then what this process delivered while the replay was read — exactly once, in order.
 * src/cluster/redis-replay.ts implements it on Redis (INCR'd sequence, a Stream, pub/sub barrier).
 */
import type { RawData } from "../engine/parser.ts";

export interface SessionSnapshot {
  nsp: string;
  sid: string;
  /** Epoch of the recovery log of the process that served the session. */
  epoch: string;
  rooms: string[];
  /** First local log sequence (of `epoch`) the client may not have received. */
  sinceSeq: number;
  /** Every cluster entry up to this one that reached the client before `sinceSeq` was taken was delivered to it. */
  sinceCluster: number;
}

export interface ReplayEntry {
  cseq: number;
  nsp: string;
  frames: RawData[];
  rooms: string[];
  except: string[];
  /** The origin's recovery log epoch and sequence of this broadcast. */
  epoch: string;
  seq: number;
}

export interface ClusterReplay {
  /** The highest cluster sequence received here; every earlier one for a subscribed room has been delivered. */
  clusterOffset(): number;
  /** Stores (replaces) the snapshot of a connected or recoverable session. */
  save(pid: string, s: SessionSnapshot): void;
  /** The session ended for good. */
  drop(pid: string): void;
  /** Takes (once) a snapshot saved by any process. */
  take(pid: string): Promise<SessionSnapshot | null>;
  /**
   * Subscribes to `rooms` (confirmed), then numbers a barrier; `atSend` runs in the tick the barrier is sent.
   * Resolves with its sequence once every earlier broadcast to the subscribed rooms has been received here.
   */
  barrier(nsp: string, rooms: string[], atSend: () => void): Promise<number>;
  /** Entries with from < cseq ≤ to, in order; null when the buffer no longer holds all of them. */
  range(from: number, to: number): Promise<ReplayEntry[] | null>;
}
