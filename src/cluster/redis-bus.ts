/**
 * The Socket.IO bus over Redis pub/sub, with one channel PER ROOM: a node SUBSCRIBEs to a room's channel only
 * while it has local members in that room (the adapter says when), so a node receives nothing for rooms whose
 * members are all elsewhere — unlike socket.io's Redis adapter, where every node gets every broadcast. A
 * broadcast to several rooms is published once per room WITHOUT the list of rooms (a 1,000-member group's
 * message would otherwise put its 1,000 room names on each of 1,000 channels: 24 MB through Redis per message,
 * beyond its pub/sub output buffer limit); the room of a copy is its channel's. The copies of one broadcast
 * arrive back to back (one script publishes them all): a node decodes the first, collects the rooms of the
 * rest, and delivers it once to all of them at the end of the tick (a socket in several gets it once). The
 * replay Stream keeps the full broadcast, rooms included. Broadcasts to a whole namespace use its channel.
 *
 * One Lua script per broadcast numbers it cluster-wide (INCR), keeps it in the replay Stream (bounded, see
 * redis-replay.ts) and publishes it, atomically: every node receives broadcasts in cluster order, and its
 * highest received number (`clusterOffset`) says everything before it has arrived. A barrier (the same script
 * with an empty payload, published to this node's own channel) lets recovery wait until that is true.
 *
 * Message: `<cseq>\n[origin, nsp, rooms, except, binaryCount, epoch, seq]\n<text frame>` then one "\n" + base64
 * line per binary attachment (Socket.IO text frames hold no raw newline: JSON escapes it).
 */
import type { RawData } from "../realtime/engine/parser.ts";
import type { BroadcastBus, BusBroadcast } from "../realtime/socketio/bus.ts";
import type { Logger } from "../logger.ts";
import type { RedisLink } from "./redis-link.ts";

export interface BusStats {
  published: number;
  publishedBytes: number;
  received: number;
  receivedBytes: number;
  /** Subscribed channels (rooms with local members, and namespaces). */
  channels: number;
}

export interface RedisBus extends BroadcastBus {
  readonly stats: BusStats;
  /** The highest cluster sequence received (in order) on the subscriber connection. */
  clusterOffset(): number;
  /** Subscribes to these rooms' channels and resolves once Redis confirmed. */
  ensureSubscribed(nsp: string, rooms: string[]): Promise<void>;
  /**
   * Numbers a barrier (`atSend` runs in the tick it is sent); resolves once it came back on the subscriber
   * connection, rejects if it has not within BARRIER_TIMEOUT_MS or the link goes down meanwhile.
   */
  barrier(atSend: () => void): Promise<number>;
}

export interface DecodedBroadcast {
  origin: string;
  nsp: string;
  rooms: string[];
  except: string[];
  epoch: string;
  seq: number;
  frames: RawData[];
}

/** KEYS: sequence, stream. ARGV: maxlen, payload (kept), payload to publish ('' = the same), channels... */
const PUBLISH = `local s = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], s .. '-1', 'm', ARGV[2])
local msg = s .. '\\n' .. (ARGV[3] ~= '' and ARGV[3] or ARGV[2])
for i = 4, #ARGV do redis.call('PUBLISH', ARGV[i], msg) end
return s`;

/** KEYS: sequence. ARGV: a node's offset. After Redis lost its data, numbering resumes above what nodes have seen. */
const RAISE = `local c = tonumber(redis.call('GET', KEYS[1]) or '0')
if c < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return c`;

/** A barrier not back on the subscriber connection by then is given up (the caller treats it as "not recovered"). */
const BARRIER_TIMEOUT_MS = 2_000;

type RemoteFn = Parameters<BroadcastBus["onRemote"]>[0];

export function createRedisBus(link: RedisLink, nodeId: string, log: Logger, maxEntries = 100_000): RedisBus {
  const stats: BusStats = { published: 0, publishedBytes: 0, received: 0, receivedBytes: 0, channels: 0 };
  const keys = [`${link.prefix}seq`, `${link.prefix}replay`];
  const maxlen = String(maxEntries);
  const own = `${link.prefix}node:${nodeId}`;
  /** Subscribed channel → what it carries. */
  const subs = new Map<string, { nsp: string; room: string | null }>();
  const confirmed = new Map<string, Promise<unknown>>();
  let remote: RemoteFn = () => {};
  let warned = false;
  let offset = 0;
  /** The cluster sequence of the last broadcast delivered from a room or namespace channel. */
  /** The broadcast whose copies are arriving: decoded once, its rooms collected, delivered at the end of the tick. */
  let pending: { cseq: number; b: DecodedBroadcast; rooms: string[] | null } | null = null;
  /** Rooms already delivered for the newest sequence (a copy arriving after the flush excludes them). */
  let delivered = { cseq: -1, rooms: new Set<string>() };
  const barriers: { seq: number; resolve: (n: number) => void; reject: (err: Error) => void }[] = [];
  const channel = (nsp: string, room: string | null) => (room === null ? `${link.prefix}n:${nsp}` : `${link.prefix}r:${nsp}:${room}`);

  const advance = (cseq: number) => {
    if (cseq > offset) offset = cseq;
    for (let i = barriers.length - 1; i >= 0; i--) {
      const b = barriers[i]!;
      if (b.seq <= offset) {
        barriers.splice(i, 1);
        b.resolve(b.seq);
      }
    }
  };

  const onMessage = (message: string, ch: string) => {
    stats.received++;
    stats.receivedBytes += message.length;
    try {
      const nl = message.indexOf("\n");
      const cseq = Number(message.slice(0, nl));
      const sub = subs.get(ch);
      if (ch === own || !sub) {
        flush();
        return advance(cseq);
      }
      // Another copy of the broadcast being collected: only its room is new (not decoded again).
      if (pending?.cseq === cseq) {
        if (sub.room !== null) pending.rooms?.push(sub.room);
        return;
      }
      flush();
      pending = { cseq, b: decodeBroadcast(message.slice(nl + 1)), rooms: sub.room === null ? null : [sub.room] };
      setImmediate(flush);
    } catch (err) {
      log.error("cluster bus: bad message dropped", { channel: ch, err });
    }
  };

  /** Delivers the collected broadcast (in cluster order: before the offset moves past it). */
  function flush(): void {
    const p = pending;
    if (!p) return;
    pending = null;
    if (p.b.origin !== nodeId) {
      const except = new Set(p.b.except);
      if (delivered.cseq === p.cseq) for (const r of delivered.rooms) except.add(r);
      else delivered = { cseq: p.cseq, rooms: new Set() };
      try {
        remote(p.b.nsp, p.b.frames, p.rooms, except, p.cseq);
      } catch (err) {
        log.error("cluster bus: delivering a broadcast failed", { err });
      }
      for (const r of p.rooms ?? []) delivered.rooms.add(r);
    }
    advance(p.cseq);
  }

  link.onDown(() => {
    flush();
    for (const b of barriers.splice(0)) b.reject(new Error("redis connection lost"));
  });

  const subscribe = (ch: string) => {
    const p = link.sub?.subscribe(ch, onMessage) ?? Promise.reject(new Error("redis unavailable"));
    confirmed.set(ch, p);
    p.catch((err: unknown) => log.warn("cluster bus: subscribe failed", { channel: ch, err: (err as Error).message }));
    return p;
  };
  link.onUp(() => {
    warned = false;
    // Loaded before any broadcast after a (re)connect, so EVALSHA finds it (the EVAL fallback is for a SCRIPT FLUSH).
    void link.send("SCRIPT", ["LOAD", PUBLISH]).catch(() => {});
    void link.send("EVAL", [RAISE, "1", keys[0]!, String(offset)]).catch(() => {});
    void subscribe(own).catch(() => {});
    for (const ch of subs.keys()) void subscribe(ch).catch(() => {});
  });
  // The script by its SHA1 (what Redis caches it under): 40 bytes per broadcast instead of the script's text.
  const sha = new Bun.CryptoHasher("sha1").update(PUBLISH).digest("hex");
  const run = (payload: string, published: string, channels: string[]) => {
    const args = ["2", ...keys, maxlen, payload, published, ...channels];
    return link.send("EVALSHA", [sha, ...args]).catch((err: unknown) => {
      if (!String((err as Error).message).includes("NOSCRIPT")) throw err;
      return link.send("EVAL", [PUBLISH, ...args]);
    });
  };

  return {
    stats,
    clusterOffset: () => offset,
    publish(b: BusBroadcast) {
      const channels = b.rooms.length === 0 ? [channel(b.nsp, null)] : b.rooms.map((r) => channel(b.nsp, r));
      const message = encode(nodeId, b);
      // Each copy's room is its channel's: the copies leave the room list out ('' publishes the kept payload).
      const published = b.rooms.length > 1 ? encode(nodeId, { ...b, rooms: [] }) : "";
      stats.published += channels.length;
      stats.publishedBytes += (published || message).length * channels.length;
      run(message, published, channels).catch((err: unknown) => {
        if (warned) return;
        warned = true;
        log.warn("cluster bus: publish failed; other nodes miss broadcasts until redis is back", { err: (err as Error).message });
      });
    },
    subscribe(nsp, room) {
      const ch = channel(nsp, room);
      if (subs.has(ch)) return;
      subs.set(ch, { nsp, room });
      stats.channels = subs.size;
      void subscribe(ch).catch(() => {});
    },
    unsubscribe(nsp, room) {
      const ch = channel(nsp, room);
      if (!subs.delete(ch)) return;
      confirmed.delete(ch);
      stats.channels = subs.size;
      link.sub?.unsubscribe(ch).catch(() => {});
    },
    onRemote(fn) {
      remote = fn;
    },
    async ensureSubscribed(nsp, rooms) {
      const waits: Promise<unknown>[] = [];
      for (const room of rooms) {
        const ch = channel(nsp, room);
        if (!subs.has(ch)) {
          subs.set(ch, { nsp, room });
          stats.channels = subs.size;
          waits.push(subscribe(ch));
        } else waits.push(confirmed.get(ch) ?? subscribe(ch));
      }
      await Promise.all(waits);
    },
    async barrier(atSend) {
      const sent = run("", "", [own]);
      atSend();
      const seq = Number(await sent);
      return new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = barriers.indexOf(b);
          if (i < 0) return;
          barriers.splice(i, 1);
          reject(new Error("cluster bus: barrier timed out"));
        }, BARRIER_TIMEOUT_MS);
        const b = {
          seq,
          resolve: (n: number) => {
            clearTimeout(timer);
            resolve(n);
          },
          reject: (err: Error) => {
            clearTimeout(timer);
            reject(err);
          },
        };
        barriers.push(b);
        advance(offset);
      });
    },
  };
}

function encode(nodeId: string, b: BusBroadcast): string {
  let binaries = 0;
  let tail = "";
  for (let i = 1; i < b.frames.length; i++) {
    tail += `\n${Buffer.from(b.frames[i] as Uint8Array).toString("base64")}`;
    binaries++;
  }
  return `${JSON.stringify([nodeId, b.nsp, b.rooms, b.except, binaries, b.epoch ?? "", b.seq ?? -1])}\n${b.frames[0] as string}${tail}`;
}

/** A broadcast as stored in the replay Stream (the message without its sequence line). */
export function decodeBroadcast(payload: string): DecodedBroadcast {
  const nl = payload.indexOf("\n");
  const [origin, nsp, rooms, except, binaries, epoch, seq] = JSON.parse(payload.slice(0, nl)) as [string, string, string[], string[], number, string, number];
  let frames: RawData[];
  if (binaries === 0) frames = [payload.slice(nl + 1)];
  else {
    const parts = payload.slice(nl + 1).split("\n");
    frames = [parts[0]!, ...parts.slice(1).map((p) => Buffer.from(p, "base64"))];
  }
  return { origin, nsp, rooms, except, epoch, seq, frames };
}
