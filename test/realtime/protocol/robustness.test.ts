/** Malformed Socket.IO input closes only the offending session; nothing leaks after many cycles. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { waitUntil } from "../../helpers/wait.ts";
import { RawWs, startHarness, type Harness } from "./harness.ts";

let h: Harness;
beforeAll(() => {
  h = startHarness({ connectTimeout: 300 });
  h.io.on("connection", (s) => {
    s.join("lobby");
    s.on("ping-me", (ack: (x: string) => void) => ack("pong"));
  });
});
afterAll(() => h.close());

async function connected(): Promise<RawWs> {
  const ws = new RawWs(`${h.url}/socket.io/?EIO=4&transport=websocket`);
  await ws.next();
  ws.send("40");
  expect(((await ws.next()) as string).startsWith('40{"sid"')).toBe(true);
  return ws;
}

test.each([
  ["bad JSON", "42[\"x\","],
  ["unknown packet type", "49[]"],
  ["event that is not an array", "42{}"],
  ["garbage after the type", "42abc[\"x\"]"],
  ["bad CONNECT payload", "4abc"],
  ["reserved event name", '42["disconnect"]'],
  ["packet for a namespace not joined", '42/other,["x"]'],
  ["attachment count lie", '451-["x",{"_placeholder":true,"num":0}]'],
])("%s closes the session, and the server keeps serving others", async (_name, frame) => {
  const bystander = await connected();
  const bad = await connected();
  bad.send(frame);
  if (frame.startsWith("451-")) bad.send("42[\"text instead of binary\"]");
  await bad.waitClosed();
  bystander.send('420["ping-me"]');
  expect(await bystander.next()).toBe('430["pong"]');
  bystander.close();
});

test("garbage bytes and a binary frame out of place close the session", async () => {
  const ws = await connected();
  ws.send(new Uint8Array([0xff, 0x00, 0x13]));
  await ws.waitClosed();
});

test("unknown namespace gets CONNECT_ERROR Invalid namespace and the session stays usable", async () => {
  const ws = new RawWs(`${h.url}/socket.io/?EIO=4&transport=websocket`);
  await ws.next();
  ws.send("40/nowhere,");
  expect(await ws.next()).toBe('44/nowhere,{"message":"Invalid namespace"}');
  ws.send("40");
  expect(((await ws.next()) as string).startsWith('40{"sid"')).toBe(true);
  ws.close();
});

test("no CONNECT within connectTimeout closes the session", async () => {
  const ws = new RawWs(`${h.url}/socket.io/?EIO=4&transport=websocket`);
  await ws.next();
  await ws.waitClosed(2000);
});

test("no leak after 10,000 connect/disconnect cycles", async () => {
  const cycles = 10_000;
  const parallel = 50;
  for (let done = 0; done < cycles; done += parallel) {
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        const ws = await connected();
        ws.close();
        await ws.waitClosed();
      }),
    );
  }
  await waitUntil(() => h.io.engine.clientsCount === 0, 5000, "sessions gone");
  expect(h.io.sockets.sockets.size).toBe(0);
  expect(h.io.sockets.adapter.rooms.size).toBe(0);
}, 120_000);
