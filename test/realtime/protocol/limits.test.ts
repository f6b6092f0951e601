/** Packet cap per polling POST, handler calls in flight with backpressure, and the Origin check. */
import { describe, expect, test } from "bun:test";
import { io as connect } from "socket.io-client";
import { startTestServer } from "../../helpers/server.ts";
import { waitUntil } from "../../helpers/wait.ts";
import { poll, pollingHandshake, post, RawWs, cleanedUp, startHarness, type Harness } from "./harness.ts";

const { harnesses, clients } = cleanedUp();

function harness(opts: Parameters<typeof startHarness>[0]): Harness {
  const h = startHarness(opts);
  harnesses.push(h);
  return h;
}

async function connectedPolling(h: Harness): Promise<string> {
  const { sid } = await pollingHandshake(h.url);
  await post(h.url, sid, "40");
  expect((await (await poll(h.url, sid)).text()).startsWith('40{"sid"')).toBe(true);
  return sid;
}

/** A handler whose calls finish only when the test says so. */
function gatedWork(h: Harness) {
  const started: number[] = [];
  const finished: number[] = [];
  const gates: (() => void)[] = [];
  h.io.on("connection", (socket) => {
    socket.on("work", async (n: number) => {
      started.push(n);
      await new Promise<void>((resolve) => gates.push(resolve));
      finished.push(n);
    });
  });
  return { started, finished, release: () => gates.splice(0).forEach((g) => g()) };
}

describe("packets per polling POST", () => {
  const h = harness({ maxPacketsPerPayload: 10 });

  test("up to the cap is accepted", async () => {
    const sid = await connectedPolling(h);
    const res = await post(h.url, sid, Array(10).fill('42["x"]').join("\x1e"));
    expect(res.status).toBe(200);
  });

  test("beyond it: 413 and the session is closed, as for an oversized payload", async () => {
    const sid = await connectedPolling(h);
    const res = await post(h.url, sid, Array(11).fill('42["x"]').join("\x1e"));
    expect(res.status).toBe(413);
    expect(await (await poll(h.url, sid)).json()).toEqual({ code: 1, message: "Session ID unknown" });
  });
});

test("the chat server takes the cap from MAX_PACKETS_PER_POST", async () => {
  const s = await startTestServer("packetcap", { MAX_PACKETS_PER_POST: "5" });
  try {
    const { sid } = await pollingHandshake(s.url);
    expect((await post(s.url, sid, Array(5).fill("3").join("\x1e"))).status).toBe(200);
    expect((await post(s.url, sid, Array(6).fill("3").join("\x1e"))).status).toBe(413);
  } finally {
    await s.stopAndDrop();
  }
});

describe("handler calls in flight", () => {
  test("polling: the POST is answered only once its packets are taken, at most N calls at a time, in order", async () => {
    const h = harness({ maxHandlersInFlight: 2 });
    const work = gatedWork(h);
    const sid = await connectedPolling(h);
    let answered = false;
    const res = post(h.url, sid, [0, 1, 2, 3, 4].map((i) => `42["work",${i}]`).join("\x1e")).then((r) => {
      answered = true;
      return r;
    });
    await waitUntil(() => work.started.length === 2, 3000, "two calls started");
    expect(answered).toBe(false);
    work.release();
    await waitUntil(() => work.started.length === 4, 3000, "two more calls started");
    expect(answered).toBe(false);
    work.release();
    expect(await (await res).text()).toBe("ok");
    expect(work.started).toEqual([0, 1, 2, 3, 4]);
    work.release();
    await waitUntil(() => work.finished.length === 5, 3000, "all calls finished");
  });

  test("websocket: reading pauses at N calls and resumes in order; an ack ends a call", async () => {
    const h = harness({ maxHandlersInFlight: 3 });
    const started: number[] = [];
    const acks: ((r: unknown) => void)[] = [];
    h.io.on("connection", (socket) => socket.on("acked", (n: number, ack: (r: unknown) => void) => (started.push(n), acks.push(ack))));
    const ws = new RawWs(`${h.url}/socket.io/?EIO=4&transport=websocket`);
    await ws.next();
    ws.send("40");
    expect(((await ws.next()) as string).startsWith("40")).toBe(true);
    for (let i = 0; i < 6; i++) ws.send(`42${i}["acked",${i}]`);
    await waitUntil(() => started.length === 3, 3000, "three calls started");
    acks.shift()!(0);
    expect(await ws.next()).toBe("430[0]");
    await waitUntil(() => started.length === 4, 3000, "one more call started");
    for (const ack of acks.splice(0)) ack(1);
    await waitUntil(() => started.length === 6, 3000, "all calls started");
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    ws.close();
  });

  test("a ping timeout does not fall while the server is not reading (the pong waits unread behind the pause)", async () => {
    const h = harness({ maxHandlersInFlight: 1, pingInterval: 50, pingTimeout: 50 });
    const work = gatedWork(h);
    const ws = new RawWs(`${h.url}/socket.io/?EIO=4&transport=websocket`);
    await ws.next();
    ws.send("40");
    expect(((await ws.next()) as string).startsWith("40")).toBe(true);
    ws.send('42["work",0]');
    ws.send('42["work",1]');
    await waitUntil(() => work.started.length === 1, 3000, "first call started");
    expect(await ws.next()).toBe("2");
    ws.send("3"); // not read while paused
    const pausedAt = Date.now();
    // Well past pingTimeout (50 ms) with reading paused: the session must still be open.
    await waitUntil(() => Date.now() - pausedAt > 300, 1000, "time to pass");
    expect(ws.closed).toBe(false);
    work.release();
    await waitUntil(() => work.started.length === 2, 3000, "second call started after resume");
    work.release();
    expect(await ws.next()).toBe("2"); // the pong was read on resume: the heartbeat goes on
    ws.send("3");
    expect(ws.closed).toBe(false);
    ws.close();
  });

  test.each(["websocket", "polling"] as const)(
    "official client over %s flushing 300 buffered emits: every one handled, in order, within the bound",
    async (transport) => {
      const h = harness({ maxHandlersInFlight: 4 });
      const handled: number[] = [];
      let inFlight = 0;
      let maxInFlight = 0;
      h.io.on("connection", (socket) => {
        socket.on("msg", async (n: number, ack: (r: unknown) => void) => {
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          await new Promise((r) => setTimeout(r, 1)); // stands for a database write
          handled.push(n);
          inFlight--;
          ack(n);
        });
      });
      const c = connect(h.url, { transports: [transport], forceNew: true, reconnection: false, autoConnect: false });
      clients.push(c);
      const acked: Promise<unknown>[] = [];
      for (let i = 0; i < 300; i++) acked.push(c.timeout(10_000).emitWithAck("msg", i));
      c.connect();
      expect(await Promise.all(acked)).toEqual([...Array(300).keys()]);
      expect(handled).toEqual([...Array(300).keys()]);
      expect(maxInFlight).toBeLessThanOrEqual(4);
    },
    15_000,
  );
});

describe("allowed origins", () => {
  const h = harness({ allowedOrigins: ["http://good.example"] });
  const handshake = (origin?: string) =>
    fetch(`${h.url}/socket.io/?EIO=4&transport=polling`, { headers: origin ? { origin } : {} });

  test("a listed origin, the server's own origin and no Origin header pass; another origin gets 403 (code 4)", async () => {
    expect((await handshake("http://good.example")).status).toBe(200);
    expect((await handshake()).status).toBe(200);
    expect((await handshake(h.url)).status).toBe(200); // python's websocket-client sends this by default
    const res = await handshake("http://evil.example");
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ code: 4, message: "Forbidden" });
  });

  test("polling requests of an existing session and websocket upgrades are checked too", async () => {
    const { sid } = await pollingHandshake(h.url);
    expect((await poll(h.url, sid, { method: "POST", body: "40", headers: { origin: "http://evil.example" } })).status).toBe(403);
    const res = await fetch(`${h.url}/socket.io/?EIO=4&transport=websocket`, {
      headers: { origin: "http://evil.example", upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" },
    });
    expect(res.status).toBe(403);
  });

  test('"*" allows every origin', async () => {
    const open = harness({ allowedOrigins: "*" });
    expect((await fetch(`${open.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: "http://any.example" } })).status).toBe(200);
  });

  test("the chat server refuses a websocket from an origin not in CORS_ORIGINS", async () => {
    const s = await startTestServer("origins", { CORS_ORIGINS: "http://app.example" });
    try {
      const ws = new WebSocket(`${s.url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`, { headers: { origin: "http://evil.example" } } as never);
      const outcome = await new Promise<string>((resolve) => {
        ws.onopen = () => resolve("open");
        ws.onerror = () => resolve("refused");
      });
      expect(outcome).toBe("refused");
      const good = new RawWs(`${s.url}/socket.io/?EIO=4&transport=websocket`);
      expect(((await good.next()) as string)[0]).toBe("0");
      good.close();
    } finally {
      await s.stopAndDrop();
    }
  });
});
