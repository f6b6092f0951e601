/** Raw Engine.IO frames against our server: handshake, errors, polling rules, upgrade. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { poll, pollingHandshake, post, RawWs, startHarness, type Harness } from "./harness.ts";

let h: Harness;
beforeAll(() => {
  h = startHarness({ pingInterval: 300, pingTimeout: 200, maxHttpBufferSize: 1000 });
});
afterAll(() => h.close());

describe("handshake", () => {
  test("polling open packet has exactly sid, upgrades, pingInterval, pingTimeout, maxPayload", async () => {
    const res = await fetch(`${h.url}/socket.io/?EIO=4&transport=polling&t=abc`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=UTF-8");
    const { open } = await pollingHandshake(h.url);
    expect(Object.keys(open).sort()).toEqual(["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"]);
    expect(open).toMatchObject({ upgrades: ["websocket"], pingInterval: 300, pingTimeout: 200, maxPayload: 1000 });
    expect(String(open.sid).length).toBeGreaterThanOrEqual(20);
  });

  test("direct websocket: first frame is the open packet with no upgrades", async () => {
    const ws = new RawWs(`${h.url}/socket.io/?EIO=4&transport=websocket`);
    const first = (await ws.next()) as string;
    expect(first[0]).toBe("0");
    expect(JSON.parse(first.slice(1))).toMatchObject({ upgrades: [], pingInterval: 300 });
    ws.close();
  });

  test.each([
    ["missing EIO", "/socket.io/?transport=polling", "GET", 5, "Unsupported protocol version"],
    ["EIO=3", "/socket.io/?EIO=3&transport=polling", "GET", 5, "Unsupported protocol version"],
    ["unknown transport", "/socket.io/?EIO=4&transport=carrier-pigeon", "GET", 0, "Transport unknown"],
    ["POST handshake", "/socket.io/?EIO=4&transport=polling", "POST", 2, "Bad handshake method"],
    ["unknown sid", "/socket.io/?EIO=4&transport=polling&sid=nope", "GET", 1, "Session ID unknown"],
    ["websocket without upgrade", "/socket.io/?EIO=4&transport=websocket", "GET", 3, "Bad request"],
  ])("%s → 400 {code, message}", async (_n, path, method, code, message) => {
    const res = await fetch(`${h.url}${path}`, { method });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code, message });
  });

  test("CORS preflight is answered", async () => {
    const res = await fetch(`${h.url}/socket.io/?EIO=4&transport=polling`, {
      method: "OPTIONS",
      headers: { origin: "http://app.example", "access-control-request-method": "POST" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });
});

describe("long-polling", () => {
  test("POST answers ok; a held GET receives the ping after pingInterval", async () => {
    const { sid } = await pollingHandshake(h.url);
    const get = poll(h.url, sid);
    expect(await (await post(h.url, sid, "40")).text()).toBe("ok");
    expect((await (await get).text()).startsWith("40{\"sid\"")).toBe(true);
    expect(await (await poll(h.url, sid)).text()).toBe("2");
    await post(h.url, sid, "3");
  });

  test("two concurrent GETs: the first gets a close packet, the second 400, the session is gone", async () => {
    const { sid } = await pollingHandshake(h.url);
    const first = poll(h.url, sid);
    await Bun.sleep(20); // let the first GET be held
    const second = await poll(h.url, sid);
    expect(second.status).toBe(400);
    expect(await (await first).text()).toBe("1");
    expect((await poll(h.url, sid)).status).toBe(400);
  });

  test("undecodable POST → 400 and the session is destroyed", async () => {
    const { sid } = await pollingHandshake(h.url);
    expect((await post(h.url, sid, "abc")).status).toBe(400);
    expect((await poll(h.url, sid)).status).toBe(400);
  });

  test("client close packet releases the held GET with a noop", async () => {
    const { sid } = await pollingHandshake(h.url);
    const get = poll(h.url, sid);
    await Bun.sleep(20);
    await post(h.url, sid, "1");
    expect(await (await get).text()).toBe("6");
    expect((await poll(h.url, sid)).status).toBe(400);
  });

  test("a POST above maxHttpBufferSize gets 413 and closes the session", async () => {
    const { sid } = await pollingHandshake(h.url);
    const res = await post(h.url, sid, `4${"x".repeat(2000)}`);
    expect(res.status).toBe(413);
    expect((await poll(h.url, sid)).status).toBe(400);
  });

  test("no pong within pingTimeout closes the session", async () => {
    const { sid } = await pollingHandshake(h.url);
    expect(await (await poll(h.url, sid)).text()).toBe("2");
    await Bun.sleep(300);
    expect((await poll(h.url, sid)).status).toBe(400);
  });
});

describe("upgrade polling → websocket", () => {
  test("2probe/3probe, the held GET is released with a noop, then 5; afterwards polling is refused and a 2nd websocket is closed", async () => {
    const { sid } = await pollingHandshake(h.url);
    await post(h.url, sid, "40");
    expect((await (await poll(h.url, sid)).text()).startsWith("40")).toBe(true);
    const held = poll(h.url, sid);
    const ws = new RawWs(`${h.url}/socket.io/?EIO=4&transport=websocket&sid=${sid}`);
    await ws.opened();
    ws.send("2probe");
    expect(await ws.next()).toBe("3probe");
    expect(await (await held).text()).toBe("6");
    ws.send("5");
    expect(await ws.next(2000)).toBe("2"); // the heartbeat now runs on the websocket
    ws.send("3");
    expect((await poll(h.url, sid)).status).toBe(400);
    const second = new RawWs(`${h.url}/socket.io/?EIO=4&transport=websocket&sid=${sid}`);
    await second.waitClosed();
    ws.close();
  });

  test("an invalid packet on the websocket closes it", async () => {
    const ws = new RawWs(`${h.url}/socket.io/?EIO=4&transport=websocket`);
    await ws.next();
    ws.send("abc");
    await ws.waitClosed();
  });

  test("a websocket message above maxHttpBufferSize closes that connection only", async () => {
    const a = new RawWs(`${h.url}/socket.io/?EIO=4&transport=websocket`);
    const b = new RawWs(`${h.url}/socket.io/?EIO=4&transport=websocket`);
    await a.next();
    await b.next();
    a.send(`4${"x".repeat(5000)}`);
    await a.waitClosed();
    b.send("40");
    expect(((await b.next()) as string).startsWith("40{\"sid\"")).toBe(true);
    b.close();
  });
});

describe("shutdown", () => {
  test("a polling client between two GETs still gets its close packet; a held GET gets it at once; a websocket is closed", async () => {
    const own = startHarness({ pingInterval: 10_000, pingTimeout: 5000 });
    try {
      const idle = await pollingHandshake(own.url); // no GET pending when the server starts closing
      const holding = await pollingHandshake(own.url);
      const held = poll(own.url, holding.sid);
      const ws = new RawWs(`${own.url}/socket.io/?EIO=4&transport=websocket`);
      expect(String(await ws.next()).startsWith("0")).toBe(true);
      await Bun.sleep(20); // the held GET has reached the server
      const closing = own.io.close();
      expect(await (await held).text()).toBe("1");
      await expect(ws.next()).rejects.toThrow("websocket closed"); // as the official server: closed, no packet
      const late = await poll(own.url, idle.sid);
      expect(await late.text()).toBe("1");
      await closing;
      expect(own.io.engine.clientsCount).toBe(0);
      // Once closed, the session is gone: the official answer for an unknown sid.
      expect((await poll(own.url, idle.sid)).status).toBe(400);
    } finally {
      await own.close();
    }
  });
});
