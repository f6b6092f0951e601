/**
 * Connection state recovery with the unmodified official socket.io-client, and its limits with raw frames.
 * Broadcasts arrive exactly as emitted; an offset marker `42["sio:offset","<offset>"]` follows them.
 */
import { describe, expect, test } from "bun:test";
import { io as connect, type Socket as ClientSocket } from "socket.io-client";
import type { RecoveryOptions } from "../../../src/realtime/socketio/server.ts";
import type { Socket } from "../../../src/realtime/socketio/socket.ts";
import { waitFor, waitUntil } from "../../helpers/wait.ts";
import { poll, pollingHandshake, post, RawWs, cleanedUp, startHarness, type Harness } from "./harness.ts";

const { harnesses, clients } = cleanedUp();

/** A server whose connection handler joins "news" and sets data, and records every connection. */
function recoveringServer(recovery: RecoveryOptions = {}) {
  const h = startHarness({ connectionStateRecovery: recovery });
  harnesses.push(h);
  const connections: { id: string; recovered: boolean }[] = [];
  const disconnects: { id: string; reason: string }[] = [];
  const sockets = new Map<string, Socket>();
  h.io.on("connection", (socket) => {
    connections.push({ id: socket.id, recovered: socket.recovered });
    sockets.set(socket.id, socket);
    if (!socket.recovered) {
      socket.join("news");
      socket.data.n = 42;
    }
    socket.on("disconnect", (reason: string) => disconnects.push({ id: socket.id, reason }));
  });
  return { h, connections, disconnects, sockets };
}

/** The offset marker that follows broadcasts: `<base-36 sequence>.<log tag>`. */
const MARKER = /^42\["sio:offset","[0-9a-z]+\.[0-9a-z]+"\]$/;
const offsetOf = (marker: string) => (JSON.parse(marker.slice(2)) as [string, string])[1];

function client(h: Harness, transport: "websocket" | "polling"): ClientSocket {
  const c = connect(h.url, { transports: [transport], forceNew: true });
  clients.push(c);
  return c;
}

/** Resolves with the server-side disconnect reason of socket `id`. */
function serverDisconnect(srv: ReturnType<typeof recoveringServer>, id: string): Promise<string> {
  return new Promise((resolve) => srv.sockets.get(id)!.on("disconnect", (reason: string) => resolve(reason)));
}

describe.each(["websocket", "polling"] as const)("official client over %s", (transport) => {
  test("a dropped transport comes back recovered: same id, rooms, data, every missed packet in order", async () => {
    const srv = recoveringServer();
    const c = client(srv.h, transport);
    const got: unknown[][] = [];
    c.on("tick", (...args: unknown[]) => got.push(args));
    await waitFor(c, "connect");
    expect(c.recovered).toBe(false);
    const id = c.id!;
    const first = waitFor(c, "tick");
    // The drop comes once the client also has the offset marker that follows the broadcast (a drop between the two
    // replays that broadcast: recovery-exactly-once.test.ts measures that window).
    const marker = waitFor(c, "sio:offset");
    srv.h.io.to("news").emit("tick", 1);
    await first;
    await marker;

    const gone = serverDisconnect(srv, id);
    c.io.engine.close();
    expect(await gone).toBe("transport close");
    srv.h.io.to("news").emit("tick", 2);
    srv.h.io.to(id).emit("tick", 3);
    srv.h.io.emit("tick", 4);
    srv.h.io.to("elsewhere").emit("tick", -1);

    await waitFor(c, "connect", 5000, "reconnect");
    expect(c.recovered).toBe(true);
    expect(c.id).toBe(id);
    srv.h.io.to("news").emit("tick", 5);
    await waitUntil(() => got.length >= 5, 3000, "five ticks");
    expect(got.map((a) => a[0])).toEqual([1, 2, 3, 4, 5]);
    // Events arrive exactly as emitted: no offset argument (it travels in the marker that follows).
    expect(got.every((a) => a.length === 1)).toBe(true);
    expect(srv.connections).toEqual([
      { id, recovered: false },
      { id, recovered: true },
    ]);
    const back = srv.sockets.get(id)!;
    expect(back.recovered).toBe(true);
    expect(back.data.n).toBe(42);
    expect([...back.rooms].sort()).toEqual([id, "news"].sort());
    expect(srv.h.io.sockets.roomSize("news")).toBe(1);
  });
});

test("outside the window: a normal new connection, recovered === false, and the connection handler runs", async () => {
  const srv = recoveringServer({ maxDisconnectionDuration: 50 });
  const c = client(srv.h, "websocket");
  await waitFor(c, "connect");
  const id = c.id!;
  const gone = serverDisconnect(srv, id);
  c.io.engine.close();
  await gone;
  // The client waits about a second (reconnectionDelay) before coming back: well past 50 ms.
  await waitFor(c, "connect", 5000, "reconnect");
  expect(c.recovered).toBe(false);
  expect(c.id).not.toBe(id);
  expect(srv.connections.map((x) => x.recovered)).toEqual([false, false]);
  expect(srv.sockets.get(c.id!)!.data.n).toBe(42);
});

test("an explicit disconnect is not recoverable", async () => {
  const srv = recoveringServer();
  const c = client(srv.h, "websocket");
  await waitFor(c, "connect");
  const id = c.id!;
  const gone = serverDisconnect(srv, id);
  c.disconnect();
  expect(await gone).toBe("client namespace disconnect");
  c.connect();
  await waitFor(c, "connect");
  expect(c.recovered).toBe(false);
  expect(c.id).not.toBe(id);
});

describe("raw frames", () => {
  async function rawConnect(h: Harness, auth?: object): Promise<{ ws: RawWs; sid: string; pid?: string }> {
    const ws = new RawWs(`${h.url}/socket.io/?EIO=4&transport=websocket`);
    await ws.next();
    ws.send(auth ? `40${JSON.stringify(auth)}` : "40");
    const reply = (await ws.next()) as string;
    expect(reply.startsWith("40{")).toBe(true);
    return { ws, ...(JSON.parse(reply.slice(2)) as { sid: string; pid?: string }) };
  }

  test("recovery off (the default): CONNECT reply without pid, broadcasts without offset or marker", async () => {
    const h = startHarness();
    harnesses.push(h);
    const sockets = new Map<string, Socket>();
    h.io.on("connection", (s) => sockets.set(s.id, s));
    const { ws, sid, pid } = await rawConnect(h);
    expect(pid).toBeUndefined();
    h.io.emit("hello", 1);
    h.io.emit("hello", 2);
    await new Promise<void>((resolve) => setImmediate(resolve)); // a marker would be written at the end of the turn
    sockets.get(sid)!.emit("sync");
    expect(await ws.next()).toBe('42["hello",1]');
    expect(await ws.next()).toBe('42["hello",2]');
    expect(await ws.next()).toBe('42["sync"]');
    ws.close();
  });

  test("a broadcast arrives as emitted, then one offset marker shared by every recipient", async () => {
    const srv = recoveringServer();
    const a = await rawConnect(srv.h);
    const b = await rawConnect(srv.h);
    srv.h.io.to("news").emit("tick", 1);
    for (const c of [a, b]) expect(await c.ws.next()).toBe('42["tick",1]');
    const [ma, mb] = [(await a.ws.next()) as string, (await b.ws.next()) as string];
    expect(ma).toMatch(MARKER);
    expect(mb).toBe(ma);
    srv.h.io.to("news").emit("tick", 2);
    expect(await a.ws.next()).toBe('42["tick",2]');
    const next = (await a.ws.next()) as string;
    expect(next).toMatch(MARKER);
    expect(next).not.toBe(ma);
    a.ws.close();
    b.ws.close();
  });

  test("broadcasts of one event-loop turn share one marker per target, after the last of them; a covered target gets none", async () => {
    const srv = recoveringServer();
    const a = await rawConnect(srv.h);
    const sync = (c: { sid: string }) => srv.sockets.get(c.sid)!.emit("sync");
    for (let i = 0; i < 100; i++) srv.h.io.to("news").emit("tick", i);
    for (let i = 0; i < 100; i++) expect(await a.ws.next()).toBe(`42["tick",${i}]`);
    expect((await a.ws.next()) as string).toMatch(MARKER);
    // A direct emit (no marker: not a broadcast) proves nothing else was queued before it.
    sync(a);
    expect(await a.ws.next()).toBe('42["sync"]');
    // As the chat does: one event to both users' rooms, one to one of them. The second target's recipients are all
    // recipients of the first, so the first's marker covers both.
    srv.h.io.to(["news", "other"]).emit("both", 1);
    srv.h.io.to("news").emit("one", 2);
    expect(await a.ws.next()).toBe('42["both",1]');
    expect(await a.ws.next()).toBe('42["one",2]');
    expect((await a.ws.next()) as string).toMatch(MARKER);
    sync(a);
    expect(await a.ws.next()).toBe('42["sync"]');
    // A socket excluded from a broadcast gets neither it nor its marker.
    const b = await rawConnect(srv.h);
    srv.sockets.get(b.sid)!.to("news").emit("from-b", 3);
    expect(await a.ws.next()).toBe('42["from-b",3]');
    expect((await a.ws.next()) as string).toMatch(MARKER);
    sync(b);
    expect(await b.ws.next()).toBe('42["sync"]');
    a.ws.close();
    b.ws.close();
  });

  test("over polling, a broadcast and its marker leave in the same response", async () => {
    const srv = recoveringServer();
    const { sid } = await pollingHandshake(srv.h.url);
    await post(srv.h.url, sid, "40");
    const reply = await (await poll(srv.h.url, sid)).text();
    expect(reply.startsWith("40{")).toBe(true);
    const parked = poll(srv.h.url, sid);
    await waitUntil(() => srv.h.io.engine.sessions.get(sid)?.pendingGet != null, 3000, "the GET to be waiting");
    srv.h.io.to("news").emit("tick", 1);
    srv.h.io.to("news").emit("tick", 2);
    const packets = (await (await parked).text()).split("\x1e");
    expect(packets.slice(0, 2)).toEqual(['42["tick",1]', '42["tick",2]']);
    expect(packets[2]).toMatch(MARKER);
    expect(packets.length).toBe(3);
    await post(srv.h.url, sid, "1");
  });

  test("a missed binary broadcast is replayed with its attachment", async () => {
    const srv = recoveringServer();
    const a = await rawConnect(srv.h);
    const gone = serverDisconnect(srv, a.sid);
    a.ws.close();
    await gone;
    srv.h.io.to("news").emit("file", Buffer.from([1, 2, 3]));
    const b = await rawConnect(srv.h, { pid: a.pid });
    expect(b.sid).toBe(a.sid);
    expect(await b.ws.next()).toBe('451-["file",{"_placeholder":true,"num":0}]');
    expect([...new Uint8Array((await b.ws.next()) as ArrayBuffer)]).toEqual([1, 2, 3]);
    expect((await b.ws.next()) as string).toMatch(MARKER);
    b.ws.close();
  });

  test("an unknown pid gets a new session", async () => {
    const srv = recoveringServer();
    const { ws, sid, pid } = await rawConnect(srv.h, { pid: "unknown", offset: "x.0" });
    expect(typeof pid).toBe("string");
    expect(srv.connections).toEqual([{ id: sid, recovered: false }]);
    ws.close();
  });

  test("a session that never got a broadcast (no offset) is recovered from when it connected", async () => {
    const srv = recoveringServer();
    srv.h.io.to("news").emit("before", 0);
    const a = await rawConnect(srv.h);
    const gone = serverDisconnect(srv, a.sid);
    a.ws.close();
    await gone;
    srv.h.io.to("news").emit("missed", 1);
    const b = await rawConnect(srv.h, { pid: a.pid });
    expect(b.sid).toBe(a.sid);
    expect(b.pid).toBe(a.pid);
    expect(await b.ws.next()).toBe('42["missed",1]');
    expect((await b.ws.next()) as string).toMatch(MARKER);
    b.ws.close();
  });

  test("a replay the client did not read (dropped again at once) is replayed on its next return", async () => {
    const srv = recoveringServer();
    const a = await rawConnect(srv.h);
    let gone = serverDisconnect(srv, a.sid);
    a.ws.close();
    await gone;
    srv.h.io.to("news").emit("missed", 1);
    const b = await rawConnect(srv.h, { pid: a.pid });
    expect(b.sid).toBe(a.sid);
    gone = serverDisconnect(srv, b.sid);
    b.ws.close(); // before reading its replay: the client still holds no offset
    await gone;
    const c = await rawConnect(srv.h, { pid: a.pid });
    expect(c.sid).toBe(a.sid);
    expect(await c.ws.next()).toBe('42["missed",1]');
    expect((await c.ws.next()) as string).toMatch(MARKER);
    c.ws.close();
  });

  test("a replay larger than maxSessionReplayBytes is not recovered", async () => {
    const srv = recoveringServer({ maxSessionReplayBytes: 1000 });
    const a = await rawConnect(srv.h);
    const gone = serverDisconnect(srv, a.sid);
    a.ws.close();
    await gone;
    for (let i = 0; i < 5; i++) srv.h.io.to("news").emit("big", "x".repeat(300));
    const b = await rawConnect(srv.h, { pid: a.pid });
    expect(b.sid).not.toBe(a.sid);
    b.ws.close();
  });

  test("an offset pushed out of the log by maxBufferBytes is not recovered; the log itself stays bounded", async () => {
    const srv = recoveringServer({ maxBufferBytes: 2000 });
    const a = await rawConnect(srv.h);
    srv.h.io.to("news").emit("tick", 0);
    expect(await a.ws.next()).toBe('42["tick",0]');
    const offset = offsetOf((await a.ws.next()) as string);
    const gone = serverDisconnect(srv, a.sid);
    a.ws.close();
    await gone;
    for (let i = 0; i < 20; i++) srv.h.io.to("news").emit("big", "x".repeat(300));
    const b = await rawConnect(srv.h, { pid: a.pid, offset });
    expect(b.sid).not.toBe(a.sid);
    b.ws.close();
  });

  test("a quiet client that answered a ping stays recoverable after the log moved past its connect", async () => {
    const h = startHarness({ pingInterval: 100, pingTimeout: 2000, connectionStateRecovery: { maxBufferBytes: 2000 } });
    harnesses.push(h);
    const sockets = new Map<string, Socket>();
    h.io.on("connection", (s) => {
      sockets.set(s.id, s);
      if (!s.recovered) s.join("news");
    });
    const a = await rawConnect(h);
    // Broadcasts elsewhere push the entries from its connect out of the log (it never gets an offset).
    for (let i = 0; i < 20; i++) h.io.to("elsewhere").emit("big", "x".repeat(300));
    expect(await a.ws.next()).toBe("2");
    a.ws.send("3");
    const gone = new Promise((resolve) => sockets.get(a.sid)!.on("disconnect", resolve));
    a.ws.close();
    await gone;
    h.io.to("news").emit("tick", 2);
    const b = await rawConnect(h, { pid: a.pid });
    expect(b.sid).toBe(a.sid);
    expect(await b.ws.next()).toBe('42["tick",2]');
    expect((await b.ws.next()) as string).toMatch(MARKER);
    b.ws.close();
  });

  test("back on a new transport before the old one was seen to die: the old one is closed and the session recovered", async () => {
    const srv = recoveringServer();
    const a = await rawConnect(srv.h);
    srv.h.io.to("news").emit("tick", 1);
    expect(await a.ws.next()).toBe('42["tick",1]');
    const offset = offsetOf((await a.ws.next()) as string);
    // The old websocket stays open (its network is gone, the server does not know yet); a broadcast goes to it.
    srv.h.io.to("news").emit("tick", 2);
    const gone = serverDisconnect(srv, a.sid);
    const b = await rawConnect(srv.h, { pid: a.pid, offset });
    expect(await gone).toBe("transport close");
    await a.ws.waitClosed();
    expect(b.sid).toBe(a.sid);
    expect(await b.ws.next()).toBe('42["tick",2]');
    expect((await b.ws.next()) as string).toMatch(MARKER);
    expect(srv.connections).toEqual([
      { id: a.sid, recovered: false },
      { id: a.sid, recovered: true },
    ]);
    b.ws.close();
  });

  test("after the client's own DISCONNECT, its pid recovers nothing", async () => {
    const srv = recoveringServer();
    const a = await rawConnect(srv.h);
    const gone = serverDisconnect(srv, a.sid);
    a.ws.close();
    await gone;
    const b = await rawConnect(srv.h, { pid: a.pid });
    expect(b.sid).toBe(a.sid);
    const left = serverDisconnect(srv, b.sid);
    b.ws.send("41");
    expect(await left).toBe("client namespace disconnect");
    const c = await rawConnect(srv.h, { pid: a.pid });
    expect(c.sid).not.toBe(a.sid);
    expect(b.ws.closed).toBe(false); // the namespace was left, the connection stays
    b.ws.close();
    c.ws.close();
  });
});
