/**
 * The Socket.IO bus over Redis pub/sub, with one channel PER ROOM: a node SUBSCRIBEs to a room's channel only
 * while it has local members in that room (the adapter says when), so a node receives nothing for rooms whose
 * members are all elsewhere — unlike socket.io's Redis adapter, where every node gets every broadcast. A
 * broadcast to several rooms is published once per room, each copy naming all target rooms: the receiver of
 * room i delivers it to its members of room i that are in none of the rooms before i (nor in the except
 * rooms), so a socket in several target rooms gets it once. Broadcasts to a whole namespace use its channel.
 *
 * Message: `[origin, nsp, rooms, except, binaryCount]` as JSON, then "\n" and the text frame, then one
 * "\n"-separated base64 line per binary attachment (Socket.IO text frames hold no raw newline: JSON escapes it).
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
  /** Channel name of a room (null: the namespace itself). */
  channel(nsp: string, room: string | null): string;
}

type RemoteFn = (nsp: string, frames: RawData[], room: string | null, except: ReadonlySet<string>) => void;

export function createRedisBus(link: RedisLink, nodeId: string, log: Logger): RedisBus {
  const stats: BusStats = { published: 0, publishedBytes: 0, received: 0, receivedBytes: 0, channels: 0 };
  /** Subscribed channel → what it carries. */
  const subs = new Map<string, { nsp: string; room: string | null }>();
  let remote: RemoteFn = () => {};
  let warned = false;
  const channel = (nsp: string, room: string | null) => (room === null ? `${link.prefix}n:${nsp}` : `${link.prefix}r:${nsp}:${room}`);

  const onMessage = (message: string, ch: string) => {
    stats.received++;
    stats.receivedBytes += message.length;
    const sub = subs.get(ch);
    if (!sub) return;
    try {
      const nl = message.indexOf("\n");
      const [origin, nsp, rooms, except, binaries] = JSON.parse(message.slice(0, nl)) as [string, string, string[], string[], number];
      if (origin === nodeId) return;
      const frames = decodeFrames(message, nl, binaries);
      const skip = new Set(except);
      // Members of an earlier target room got it through that room's copy.
      if (sub.room !== null) for (const r of rooms) {
        if (r === sub.room) break;
        skip.add(r);
      }
      remote(nsp, frames, sub.room, skip);
    } catch (err) {
      log.error("cluster bus: bad message dropped", { channel: ch, err });
    }
  };

  const subscribe = (ch: string) => {
    link.sub?.subscribe(ch, onMessage).catch((err: unknown) => log.warn("cluster bus: subscribe failed", { channel: ch, err }));
  };
  link.onUp(() => {
    warned = false;
    for (const ch of subs.keys()) subscribe(ch);
  });

  return {
    stats,
    channel,
    publish(b: BusBroadcast) {
      const channels = b.rooms.length === 0 ? [channel(b.nsp, null)] : b.rooms.map((r) => channel(b.nsp, r));
      const message = encode(nodeId, b);
      for (const ch of channels) {
        stats.published++;
        stats.publishedBytes += message.length;
        link.send("PUBLISH", [ch, message]).catch((err: unknown) => {
          if (warned) return;
          warned = true;
          log.warn("cluster bus: publish failed; other nodes miss broadcasts until redis is back", { err: (err as Error).message });
        });
      }
    },
    subscribe(nsp, room) {
      const ch = channel(nsp, room);
      if (subs.has(ch)) return;
      subs.set(ch, { nsp, room });
      stats.channels = subs.size;
      subscribe(ch);
    },
    unsubscribe(nsp, room) {
      const ch = channel(nsp, room);
      if (!subs.delete(ch)) return;
      stats.channels = subs.size;
      link.sub?.unsubscribe(ch).catch(() => {});
    },
    onRemote(fn) {
      remote = fn;
    },
  };
}

function encode(nodeId: string, b: BusBroadcast): string {
  let binaries = 0;
  let tail = "";
  for (let i = 1; i < b.frames.length; i++) {
    const f = b.frames[i]!;
    tail += `\n${Buffer.from(f as Uint8Array).toString("base64")}`;
    binaries++;
  }
  return `${JSON.stringify([nodeId, b.nsp, b.rooms, b.except, binaries])}\n${b.frames[0] as string}${tail}`;
}

function decodeFrames(message: string, nl: number, binaries: number): RawData[] {
  if (binaries === 0) return [message.slice(nl + 1)];
  const parts = message.slice(nl + 1).split("\n");
  return [parts[0]!, ...parts.slice(1).map((p) => Buffer.from(p, "base64"))];
}
