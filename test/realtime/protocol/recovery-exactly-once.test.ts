/**
 * Connection state recovery is exact with the unmodified official client, on its very first connection: what it
 * received before a drop is not replayed, what was broadcast during the drop arrives once, in order. The offset
 * it presents is the last `sio:offset` marker it read; the one window (a broadcast read, its marker not yet) is
 * measured here too: exactly the broadcasts in that window come again.
 */
import { describe, expect, test } from "bun:test";
import { io as connect } from "socket.io-client";
import type { Socket } from "../../../src/realtime/socketio/socket.ts";
import { waitFor, waitUntil } from "../../helpers/wait.ts";
import { cleanedUp, startHarness } from "./harness.ts";

/** Ends the event-loop turn: the offset markers of the broadcasts so far have been written (they use setImmediate). */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

const { harnesses, clients } = cleanedUp();

async function setup(transport: "websocket" | "polling") {
  const h = startHarness({ connectionStateRecovery: {} });
  harnesses.push(h);
  const sockets = new Map<string, Socket>();
  h.io.on("connection", (s) => {
    sockets.set(s.id, s);
    if (!s.recovered) s.join("news");
  });
  const c = connect(h.url, { transports: [transport], forceNew: true });
  clients.push(c);
  const got: unknown[][] = [];
  c.on("m", (...args: unknown[]) => got.push(args));
  await waitFor(c, "connect");
  expect(c.recovered).toBe(false);
  const id = c.id!;
  /**
   * A direct emit from a later turn: it reaches the client after every broadcast sent so far and after their markers
   * (same stream, written later), so once the client has it, it holds the offset of everything it received.
   */
  const sync = async () => {
    await turn();
    const synced = waitFor(c, "sync", 3000, "the sync emit");
    // Not a bare emit("sync"): the official client takes the last string of ANY event, its name included, as its
    // offset, and "sync" is no offset of ours (the session would not be recovered).
    sockets.get(id)!.emit("sync", 0);
    await synced;
  };
  /** Listens for the server-side disconnect and the client's reconnect (call before dropping). */
  const dropped = () => {
    const gone = new Promise<string>((resolve) => sockets.get(id)!.on("disconnect", (r: string) => resolve(r)));
    const back = waitFor(c, "connect", 5000, "reconnect");
    return { gone, back };
  };
  return { h, c, id, got, sync, dropped };
}

describe.each(["websocket", "polling"] as const)("official client over %s", (transport) => {
  test("every message exactly once, in order, across a drop on the first connection; recovered === true", async () => {
    const { h, c, id, got, sync, dropped } = await setup(transport);
    // Before the drop: two in one turn, then one per turn, to the room, to everyone, to the socket's own room.
    h.io.to("news").emit("m", 1);
    h.io.to("news").emit("m", 2);
    await turn();
    h.io.emit("m", 3);
    await turn();
    h.io.to(id).emit("m", 4);
    await waitUntil(() => got.length === 4, 3000, "four messages before the drop");
    await sync();

    const { gone, back } = dropped();
    c.io.engine.close();
    expect(await gone).toBe("transport close");
    h.io.to("news").emit("m", 5);
    h.io.to("news").emit("m", 6);
    await turn();
    h.io.emit("m", 7);
    h.io.to("elsewhere").emit("m", -1);
    h.io.to(id).emit("m", 8);

    await back;
    expect(c.recovered).toBe(true);
    expect(c.id).toBe(id);
    h.io.to("news").emit("m", 9);
    await waitUntil(() => got.length >= 9, 3000, "nine messages");
    await sync();
    expect(got).toEqual([[1], [2], [3], [4], [5], [6], [7], [8], [9]]);
  });

  test("the in-flight window: a drop after a broadcast but before its marker replays exactly the broadcasts in it", async () => {
    const { h, c, got, sync, dropped } = await setup(transport);
    h.io.to("news").emit("m", 1);
    await waitUntil(() => got.length === 1, 3000, "the first message");
    await sync();
    // 2 and 3 share one marker, written right after them; the client drops as it handles 3, before reading it.
    const drop = dropped();
    let closed = false;
    c.on("m", (n: number) => {
      if (n !== 3 || closed) return; // once: the replayed 3 must not drop again
      closed = true;
      c.io.engine.close();
    });
    h.io.to("news").emit("m", 2);
    h.io.to("news").emit("m", 3);
    expect(await drop.gone).toBe("transport close");
    h.io.to("news").emit("m", 4);
    await drop.back;
    expect(c.recovered).toBe(true);
    await waitUntil(() => got.length >= 6, 3000, "the replay");
    await sync();
    // The client's offset is the marker after 1: 2 and 3 (read, marker unread) come again, then the missed 4.
    expect(got.map((a) => a[0])).toEqual([1, 2, 3, 2, 3, 4]);
  });
});
