/**
 * Immutable broadcast builder: `to`/`in`/`except` narrow the target, `emit`
 * encodes the packet once and hands the frames to the room adapter.
 */
import type { Namespace } from "./namespace.ts";
import { encodePacket, SioType } from "./parser.ts";
import type { Socket } from "./socket.ts";

const asList = (r: string | string[]) => (Array.isArray(r) ? r : [r]);

export class BroadcastOperator {
  constructor(
    private readonly nsp: Namespace,
    private readonly rooms: ReadonlySet<string> = new Set(),
    private readonly exceptRooms: ReadonlySet<string> = new Set(),
    private readonly excludedSocket?: Socket,
  ) {}

  to(room: string | string[]): BroadcastOperator {
    return new BroadcastOperator(this.nsp, new Set([...this.rooms, ...asList(room)]), this.exceptRooms, this.excludedSocket);
  }

  in(room: string | string[]): BroadcastOperator {
    return this.to(room);
  }

  except(room: string | string[]): BroadcastOperator {
    return new BroadcastOperator(this.nsp, this.rooms, new Set([...this.exceptRooms, ...asList(room)]), this.excludedSocket);
  }

  exceptSocket(socket: Socket): BroadcastOperator {
    return new BroadcastOperator(this.nsp, this.rooms, this.exceptRooms, socket);
  }


  /** Acks are not supported on broadcasts (as with the official server without a timeout). */
  emit(event: string, ...args: unknown[]): boolean {
    const frames = encodePacket({ type: SioType.EVENT, nsp: this.nsp.name, data: [event, ...args] });
    const target = this.target();
    // With recovery on: logged as sent (no offset in the event), and an offset marker follows at the end of the event-loop turn.
    const seq = this.nsp.recovery?.append(frames, target);
    this.nsp.adapter.broadcast(frames, target, this.nsp.sockets.values());
    this.nsp.markers?.add(target);
    this.nsp.bus.publish({ nsp: this.nsp.name, frames, rooms: [...this.rooms], except: [...this.exceptRooms], epoch: this.nsp.recovery?.epoch, seq });
    this.nsp.observer.eventEmitted(event);
    return true;
  }

  socketIds(): string[] {
    return [...this.nsp.adapter.targets(this.target(), this.nsp.sockets.values())].map((s) => s.id);
  }

  /** Makes the targeted sockets leave `room` (e.g. users removed from something the room stands for). */
  socketsLeave(room: string): void {
    for (const s of [...this.nsp.adapter.targets(this.target(), this.nsp.sockets.values())]) s.leave(room);
  }

  disconnectSockets(close = false): void {
    for (const s of [...this.nsp.adapter.targets(this.target(), this.nsp.sockets.values())]) s.disconnect(close);
  }

  private target() {
    return { rooms: this.rooms, except: this.exceptRooms, exceptSocket: this.excludedSocket };
  }
}
