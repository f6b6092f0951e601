/**
 * Resuming, on this process, a session another process served (cluster mode; rules in cluster-replay.ts).
 * `takeRemote` fetches the shared snapshot before the middlewares run; `collectRemote` then waits for the
 * barrier, reads the shared buffer and, in the same tick as the caller's joins, adds what this process
 * delivered meanwhile — so each broadcast is replayed or delivered live, once.
 */
import type { RawData } from "../engine/parser.ts";
import type { SessionSnapshot } from "./cluster-replay.ts";
import type { Namespace } from "./namespace.ts";
import { frameBytes, reachesRooms, RecoveryLog, type PersistedSession } from "./recovery.ts";

export interface RemoteSession {
  snapshot: SessionSnapshot;
  session: PersistedSession;
}

export async function takeRemote(nsp: Namespace, pid: string): Promise<RemoteSession | null> {
  const snapshot = await nsp.replay!.take(pid);
  if (!snapshot || snapshot.nsp !== nsp.name) return null;
  return {
    snapshot,
    // No socket.data: it stayed with the other process (the middlewares run again and rebuild it).
    session: { sid: snapshot.sid, pid, rooms: snapshot.rooms, data: {}, disconnectedAt: Date.now(), sinceSeq: snapshot.sinceSeq },
  };
}

/** The frames to replay, and the cut the resumed socket starts from; null when the buffers no longer cover it. */
export async function collectRemote(
  nsp: Namespace,
  { snapshot }: RemoteSession,
  offset: unknown,
): Promise<{ frames: RawData[][]; from: number; fromCluster: number } | null> {
  const log = nsp.recovery!;
  const replay = nsp.replay!;
  let sinceSeq = snapshot.sinceSeq;
  let sinceCluster = snapshot.sinceCluster;
  // The client's own offset, when it comes from the session's first process, is a later cut of both.
  const o = RecoveryLog.parseOffset(offset);
  if (o && o.epoch === snapshot.epoch && o.cluster !== undefined) {
    sinceSeq = Math.max(sinceSeq, o.seq + 1);
    sinceCluster = Math.max(sinceCluster, o.cluster);
  }
  let localFrom = 0;
  let entries;
  try {
    const upTo = await replay.barrier(nsp.name, snapshot.rooms, () => (localFrom = log.nextSeq));
    // A cut beyond the current numbering: the shared state was lost (Redis restarted empty); not recoverable.
    if (sinceCluster > upTo) return null;
    entries = await replay.range(sinceCluster, upTo);
    if (!entries) return null;
    // From here on synchronous, until the caller has joined the rooms.
    const rooms = new Set(snapshot.rooms);
    const frames: RawData[][] = [];
    let bytes = 0;
    for (const e of entries) {
      if (e.nsp !== nsp.name) continue;
      // The client had it from its first process (sent before the cut it holds).
      if (e.epoch === snapshot.epoch && e.seq >= 0 && e.seq < sinceSeq) continue;
      if (!reachesRooms(e.rooms, e.except, rooms)) continue;
      bytes += frameBytes(e.frames);
      frames.push(e.frames);
    }
    const local = log.since(localFrom, snapshot.sid, rooms, upTo);
    if (!local) return null;
    frames.push(...local);
    if (bytes > log.opts.maxSessionReplayBytes) return null;
    return { frames, from: localFrom, fromCluster: sinceCluster };
  } catch {
    return null;
  }
}
