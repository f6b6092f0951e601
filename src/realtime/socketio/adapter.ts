/**
 * Rooms of one namespace, mapped onto Bun pub/sub topics. A member whose
 * session is on WebSocket is subscribed to the room's topic, so a broadcast is
 * one `server.publish` of a frame encoded once; members still on polling are
 * kept in a side set and written to one by one. A socket's own-id room is not
 * stored at all (it is found through the namespace's socket map): one member,
 * so a direct send is as cheap, and idle sockets save a Set, a map entry and a
 * subscription each.
 */
import type { Server } from "bun";
import type { RawData } from "../engine/parser.ts";
import type { Socket } from "./socket.ts";
import { LOCAL_BUS, type BroadcastBus } from "./bus.ts";

export interface BroadcastTarget {
  rooms: ReadonlySet<string>;
  except: ReadonlySet<string>;
  /** The sending socket, excluded (socket.to(room).emit / socket.broadcast). */
  exceptSocket?: Socket;
}

export class RoomAdapter {
  readonly rooms = new Map<string, Set<Socket>>();
  private readonly polling = new Map<string, Set<Socket>>();
  /** Told before each broadcast write to a socket not on WebSocket (recovery holds its GET for the marker). */
  onPollingWrite: ((s: Socket) => void) | undefined;

  constructor(
    private readonly nsp: string,
    private readonly server: () => Server<unknown> | null,
    private readonly socketById: (id: string) => Socket | undefined,
    /** Told when a room gets its first local member and loses its last (cluster mode: per-room interest). */
    private readonly bus: BroadcastBus = LOCAL_BUS,
  ) {}

  /** Members of a room, the own-id rooms included. */
  members(room: string): ReadonlySet<Socket> | undefined {
    const members = this.rooms.get(room);
    if (members) return members;
    const own = this.socketById(room);
    return own ? new Set([own]) : undefined;
  }

  private topic(room: string): string {
    return `${this.nsp}\u0000${room}`;
  }

  join(socket: Socket, room: string): void {
    if (room === socket.id) return;
    let members = this.rooms.get(room);
    if (!members) {
      this.rooms.set(room, (members = new Set()));
      this.bus.subscribe(this.nsp, room);
    }
    if (members.has(socket)) return;
    members.add(socket);
    const ws = socket.session.activeWs();
    if (ws) ws.subscribe(this.topic(room));
    else addTo(this.polling, room, socket);
  }

  leave(socket: Socket, room: string): void {
    const members = this.rooms.get(room);
    if (!members?.delete(socket)) return;
    if (members.size === 0) {
      this.rooms.delete(room);
      this.bus.unsubscribe(this.nsp, room);
    }
    if (!removeFrom(this.polling, room, socket)) socket.session.activeWs()?.unsubscribe(this.topic(room));
  }

  /** The socket's session moved to WebSocket: from now on its rooms reach it through topics. */
  upgraded(socket: Socket): void {
    const ws = socket.session.activeWs();
    if (!ws) return;
    for (const room of socket.rooms) {
      if (room !== socket.id && removeFrom(this.polling, room, socket)) ws.subscribe(this.topic(room));
    }
  }

  /** Sends pre-encoded frames (header text first, then binary attachments) to the target, each socket once. */
  broadcast(frames: RawData[], target: BroadcastTarget, all: Iterable<Socket>): void {
    const { rooms, except, exceptSocket } = target;
    const server = this.server();
    if (rooms.size === 1 && except.size === 0 && server) {
      const [room] = rooms as Set<string>;
      const members = this.members(room!);
      if (!members) return;
      if (members.size === 1) {
        for (const s of members) if (s !== exceptSocket) this.send(s, frames);
        return;
      }
      this.publish(server, room!, frames, exceptSocket);
      const polling = this.polling.get(room!);
      if (polling) for (const s of polling) if (s !== exceptSocket) this.send(s, frames);
      return;
    }
    for (const s of this.targets(target, all)) this.send(s, frames);
  }

  private send(s: Socket, frames: RawData[]): void {
    // Before the write: a polling GET waiting now would otherwise be answered with the frames alone.
    if (this.onPollingWrite && !s.session.activeWs()) this.onPollingWrite(s);
    s.sendFrames(frames);
  }

  private publish(server: Server<unknown>, room: string, frames: RawData[], exceptSocket?: Socket): void {
    const topic = this.topic(room);
    // ws.publish skips the sender's own websocket; server.publish reaches every subscriber.
    const senderWs = exceptSocket?.session.activeWs();
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]!;
      const frame = i === 0 ? `4${f as string}` : f;
      if (senderWs) senderWs.publish(topic, frame);
      else server.publish(topic, frame);
    }
  }

  /** Sockets a broadcast reaches: members of any target room (or everyone), minus excluded rooms/socket. */
  *targets({ rooms, except, exceptSocket }: BroadcastTarget, all: Iterable<Socket>): Iterable<Socket> {
    const excluded = (s: Socket) => s === exceptSocket || [...except].some((r) => this.members(r)?.has(s));
    if (rooms.size === 0) {
      for (const s of all) if (!excluded(s)) yield s;
      return;
    }
    const seen = new Set<Socket>();
    for (const room of rooms) {
      const members = this.members(room);
      if (!members) continue;
      for (const s of members) {
        if (seen.has(s)) continue;
        seen.add(s);
        if (!excluded(s)) yield s;
      }
    }
  }
}

function addTo(map: Map<string, Set<Socket>>, key: string, s: Socket): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(s);
}

function removeFrom(map: Map<string, Set<Socket>>, key: string, s: Socket): boolean {
  const set = map.get(key);
  if (!set?.delete(s)) return false;
  if (set.size === 0) map.delete(key);
  return true;
}
