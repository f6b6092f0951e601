/**
 * Offset markers (connection state recovery on): instead of appending its offset to every broadcast event (what
 * the official server does, and what breaks fixed-arity handlers of python-socketio, Java, Go and Rust clients),
 * broadcasts go out exactly as emitted and ONE tiny event follows them: `42["sio:offset","<offset>"]`.
 *
 * - The official client takes the last string argument of any event as its `_lastOffset`, so the marker sets
 *   it; clients without a listener for `sio:offset` drop it (socket.io-client and python-socketio silently).
 * - A marker goes to the recipients of the broadcasts it covers, through the same adapter path (Bun topics for
 *   websocket members, per-socket writes for polling members), after them on the same stream. Its offset is the
 *   newest log sequence when it is sent: every broadcast logged before it has already been written to all its
 *   recipients, so a client that has seen marker M has been sent every broadcast up to M that reached it.
 * - Coalesced: the broadcasts of one event-loop turn to the same target (rooms, except rooms, excluded socket) get
 *   one marker, after the last of them, encoded once for all targets of the turn; a target whose recipients are a
 *   subset of another target's gets none (chat: `new_message` to both users and `message_notification` to one: one
 *   marker). setImmediate, not a microtask: Bun drains microtasks after each incoming message's callback, so a
 *   microtask would give every broadcast triggered by a client message its own marker (200 messages read in one
 *   turn, each broadcasting: 200 markers with a microtask, 2 with setImmediate).
 * - Polling members written to by a broadcast hold their waiting GET until the markers are out, so a broadcast and
 *   its marker leave in the same response.
 */
import type { EngineSession } from "../engine/session.ts";
import type { BroadcastTarget } from "./adapter.ts";
import type { Namespace } from "./namespace.ts";
import { SioType } from "./parser.ts";
import type { RecoveryLog } from "./recovery.ts";

/** The marker's event name: reserved-looking (socket.io's own prefix, a colon), so no application emits it. */
export const OFFSET_EVENT = "sio:offset";

/** Beyond this many distinct targets in one turn, every target gets its marker (no quadratic subset check). */
const MAX_COVER_CHECK = 8;

export class OffsetMarkers {
  /** Targets of this turn by key: one room and no exclusions (the common case) by the room itself, others composed. */
  private readonly pendingRoom = new Map<string, BroadcastTarget>();
  private readonly pending = new Map<string, BroadcastTarget>();
  private held: EngineSession[] = [];
  private scheduled = false;
  /** The marker's text up to its offset (`2["sio:offset","`, with the namespace when not "/"). */
  private readonly head: string;

  constructor(
    private readonly nsp: Namespace,
    private readonly log: RecoveryLog,
  ) {
    this.head = `${SioType.EVENT}${nsp.name === "/" ? "" : `${nsp.name},`}["${OFFSET_EVENT}","`;
  }

  /** A broadcast to `target` was just logged and written: its marker follows at the end of the turn. */
  add(target: BroadcastTarget): void {
    const { rooms, except, exceptSocket } = target;
    if (rooms.size === 1 && except.size === 0 && !exceptSocket) {
      const [room] = rooms as Set<string>;
      if (!this.pendingRoom.has(room!)) this.pendingRoom.set(room!, target);
    } else {
      const key = keyOf(target);
      if (!this.pending.has(key)) this.pending.set(key, target);
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** A broadcast is about to be buffered for a polling session: keep its GET waiting until the marker is buffered too. */
  hold(session: EngineSession): void {
    if (session.holdFlush()) this.held.push(session);
  }

  /**
   * The marker telling a client it has been sent every broadcast so far (null when nothing was broadcast). Built
   * as text: the offset is `[0-9a-z.]` only, so it needs no JSON escaping (and this is once per turn, not per event).
   */
  frames(): [string] | null {
    const offset = this.log.currentOffset();
    return offset === null ? null : [`${this.head}${offset}"]`];
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const { pendingRoom, pending, held } = this;
    if (held.length > 0) this.held = [];
    try {
      const frames = this.frames();
      if (!frames) return;
      const { adapter, sockets } = this.nsp;
      if (pendingRoom.size + pending.size === 1) {
        for (const t of pendingRoom.values()) adapter.broadcast(frames, t, sockets.values());
        for (const t of pending.values()) adapter.broadcast(frames, t, sockets.values());
        return;
      }
      const targets = [...pendingRoom.values(), ...pending.values()];
      for (let i = 0; i < targets.length; i++) {
        if (targets.length <= MAX_COVER_CHECK && dominated(targets, i)) continue;
        adapter.broadcast(frames, targets[i]!, sockets.values());
      }
    } finally {
      pendingRoom.clear();
      pending.clear();
      for (const s of held) s.releaseFlush();
    }
  };
}

/** One key per distinct target (rooms, except rooms, excluded socket). */
function keyOf({ rooms, except, exceptSocket }: BroadcastTarget): string {
  return `${[...rooms].sort().join("\u0001")}\u0000${[...except].sort().join("\u0001")}\u0000${exceptSocket?.id ?? ""}`;
}

/** Whether `inner`'s recipients are all recipients of `outer` (both evaluated now: same memberships). */
function covers(outer: BroadcastTarget, inner: BroadcastTarget): boolean {
  if (outer.exceptSocket && outer.exceptSocket !== inner.exceptSocket) return false;
  for (const r of outer.except) if (!inner.except.has(r)) return false;
  if (outer.rooms.size === 0) return true;
  if (inner.rooms.size === 0) return false;
  for (const r of inner.rooms) if (!outer.rooms.has(r)) return false;
  return true;
}

/** Target i needs no marker of its own: another covers it (strictly, or equally with a lower index). */
function dominated(targets: BroadcastTarget[], i: number): boolean {
  const t = targets[i]!;
  for (let j = 0; j < targets.length; j++) {
    if (j === i) continue;
    const u = targets[j]!;
    if (covers(u, t) && (j < i || !covers(t, u))) return true;
  }
  return false;
}
