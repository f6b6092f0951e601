/**
 * Connection state recovery across nodes, on Redis: the replay buffer is the Stream every broadcast is added to by
 * the bus's publish script (entry id `<cseq>-1`, bounded by MAXLEN ~ 100,000 entries), and session snapshots are
 * keys `<p>sess:<pid>` (JSON, expiring after the recovery window plus a minute, refreshed while connected), so a
 * client whose node died can resume on another one (see src/realtime/socketio/cluster-replay.ts for the rules).
 */
import type { ClusterReplay, ReplayEntry, SessionSnapshot } from "../realtime/socketio/cluster-replay.ts";
import type { Logger } from "../logger.ts";
import { decodeBroadcast, type RedisBus } from "./redis-bus.ts";
import type { RedisLink } from "./redis-link.ts";

/** Most entries one recovery reads from the Stream; a session that missed more is not recovered. */
const MAX_RANGE = 20_000;

export function createRedisReplay(link: RedisLink, bus: RedisBus, windowMs: number, log: Logger): ClusterReplay {
  const key = (pid: string) => `${link.prefix}sess:${pid}`;
  const stream = `${link.prefix}replay`;
  const ttl = String(windowMs + 60_000);
  let warned = false;
  const failed = (err: unknown) => {
    if (!warned) log.warn("cluster recovery: redis unavailable, sessions are recoverable on their own node only", { err: (err as Error).message });
    warned = true;
  };
  return {
    clusterOffset: () => bus.clusterOffset(),
    save(pid, s) {
      link.send("SET", [key(pid), JSON.stringify(s), "PX", ttl]).then(() => (warned = false), failed);
    },
    drop(pid) {
      link.send("DEL", [key(pid)]).catch(failed);
    },
    async take(pid) {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(pid)) return null;
      try {
        const raw = (await link.send("GETDEL", [key(pid)])) as string | null;
        return raw === null ? null : (JSON.parse(raw) as SessionSnapshot);
      } catch (err) {
        failed(err);
        return null;
      }
    },
    async barrier(nsp, rooms, atSend) {
      await bus.ensureSubscribed(nsp, rooms);
      return bus.barrier(atSend);
    },
    async range(from, to) {
      if (to <= from) return [];
      if (to - from > MAX_RANGE) return null;
      const rows = (await link.send("XRANGE", [stream, `${from + 1}-1`, `${to}-1`])) as [string, string[]][];
      // Every number in (from, to] has an entry unless MAXLEN dropped it: a gap means not covered.
      if (rows.length !== to - from) return null;
      const out: ReplayEntry[] = [];
      for (const [id, fields] of rows) {
        const payload = fields[1] ?? "";
        if (payload === "") continue;
        const b = decodeBroadcast(payload);
        out.push({ cseq: Number(id.slice(0, id.indexOf("-"))), nsp: b.nsp, frames: b.frames, rooms: b.rooms, except: b.except, epoch: b.epoch, seq: b.seq });
      }
      return out;
    },
  };
}
