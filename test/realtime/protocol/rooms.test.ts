/** Rooms on Bun topics: targeting, each socket once, polling members, upgrade without loss, 1,000 clients. */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { io as connect, type Socket as ClientSocket } from "socket.io-client";
import { collect, waitFor, waitUntil } from "../../helpers/wait.ts";
import { RawWs, startHarness, type Harness } from "./harness.ts";

let h: Harness;
const clients: ClientSocket[] = [];
beforeAll(() => {
  h = startHarness();
  h.io.on("connection", (s) => {
    s.on("join", (rooms: string[], ack: () => void) => {
      s.join(rooms);
      ack();
    });
    s.on("leave", (room: string, ack: () => void) => {
      s.leave(room);
      ack();
    });
    s.on("to-others", (room: string, ack: () => void) => {
      s.to(room).emit("msg", `others-of-${room}`);
      ack();
    });
  });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});
afterAll(() => h.close());

async function member(rooms: string[], transports?: string[]): Promise<ClientSocket> {
  const c = connect(h.url, { forceNew: true, reconnection: false, ...(transports ? { transports } : {}) });
  clients.push(c);
  await waitFor(c, "connect");
  await c.timeout(2000).emitWithAck("join", rooms);
  return c;
}

/** A marker emitted to everyone after the test's broadcasts: once it arrives, earlier broadcasts have too. */
async function settle(all: ClientSocket[]): Promise<void> {
  const marks = all.map((c) => waitFor(c, "mark", 3000, "settle marker"));
  h.io.emit("mark");
  await Promise.all(marks);
}

test("to one room, to several rooms (each socket once), except, and socket.to excluding the sender", async () => {
  const a = await member(["r1"], ["websocket"]);
  const b = await member(["r1", "r2"], ["websocket"]);
  const c = await member(["r2"], ["polling"]);
  const d = await member(["r3"]);
  const got = [a, b, c, d].map((x) => collect(x, "msg"));
  h.io.to("r1").emit("msg", "r1");
  h.io.to(["r1", "r2"]).emit("msg", "r1+r2");
  h.io.to(["r1", "r2"]).except("r2").emit("msg", "r1-except-r2");
  await b.timeout(2000).emitWithAck("to-others", "r1");
  await settle([a, b, c, d]);
  expect(got[0]).toEqual(["r1", "r1+r2", "r1-except-r2", "others-of-r1"]);
  expect(got[1]).toEqual(["r1", "r1+r2"]);
  expect(got[2]).toEqual(["r1+r2"]);
  expect(got[3]).toEqual([]);
  expect(h.io.sockets.roomSize("r2")).toBe(2);
  expect(h.io.to("r2").socketIds().sort()).toEqual([b.id, c.id].sort() as string[]);
  await b.timeout(2000).emitWithAck("leave", "r2");
  expect(h.io.sockets.fetchSocketIds("r2")).toEqual([c.id!]);
});

test("a member that upgrades mid-stream gets every broadcast exactly once, in order", async () => {
  const steady = await member(["stream"], ["websocket"]);
  const c = connect(h.url, { forceNew: true, reconnection: false });
  clients.push(c);
  const seen = collect<number>(c, "n");
  await waitFor(c, "connect");
  await c.timeout(2000).emitWithAck("join", ["stream"]);
  const total = 300;
  let i = 0;
  const timer = setInterval(() => {
    for (let k = 0; k < 10 && i < total; k++) h.io.to("stream").emit("n", i++);
    if (i >= total) clearInterval(timer);
  }, 5);
  await waitUntil(() => seen.length >= total, 10_000, `${total} stream messages`);
  await settle([c, steady]);
  expect(c.io.engine.transport.name).toBe("websocket");
  expect(seen).toEqual(Array.from({ length: total }, (_, k) => k));
});

test("1,000 clients in one room each receive a broadcast exactly once", async () => {
  const N = 1000;
  const sockets: RawWs[] = [];
  for (let batch = 0; batch < N; batch += 100) {
    const part = Array.from({ length: 100 }, () => new RawWs(`${h.url}/socket.io/?EIO=4&transport=websocket`));
    await Promise.all(
      part.map(async (ws) => {
        await ws.next(); // open packet
        ws.send("40");
        await ws.next(); // CONNECT reply
        ws.send('420["join",["big"]]');
        expect(await ws.next()).toBe("430[]");
      }),
    );
    sockets.push(...part);
  }
  expect(h.io.sockets.roomSize("big")).toBe(N);
  h.io.to("big").emit("hello", { n: 1 });
  h.io.to("big").emit("hello", { n: 2 });
  const frames = await Promise.all(sockets.map(async (ws) => [await ws.next(), await ws.next()]));
  for (const f of frames) expect(f).toEqual(['42["hello",{"n":1}]', '42["hello",{"n":2}]']);
  for (const ws of sockets) ws.close();
  await waitUntil(() => h.io.engine.clientsCount === 0, 5000, "all sessions closed");
  expect(h.io.sockets.roomSize("big")).toBe(0);
}, 60_000);
