/** The official socket.io-client against our protocol layer: transports, acks, binary, namespaces, middleware. */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { io as connect, type Socket as ClientSocket } from "socket.io-client";
import { waitFor } from "../../helpers/wait.ts";
import { startHarness, type Harness } from "./harness.ts";

let h: Harness;
const clients: ClientSocket[] = [];
beforeAll(() => {
  h = startHarness();
  h.io.on("connection", (s) => {
    s.emit("welcome", { id: s.id, auth: s.handshake.auth });
    s.on("echo", (...args: unknown[]) => {
      const ack = typeof args[args.length - 1] === "function" ? (args.pop() as (...a: unknown[]) => void) : null;
      if (ack) ack(...args);
      else s.emit("echo", ...args);
    });
    s.on("ask-me", async (question: string, ack: (a: unknown) => void) => {
      const answer = await s.timeout(2000).emitWithAck("question", question);
      ack({ answer });
    });
    s.on("ask-silent", async (ack: (a: unknown) => void) => {
      try {
        await s.timeout(100).emitWithAck("unanswered", "nobody answers");
        ack("answered");
      } catch (e) {
        ack((e as Error).message);
      }
    });
    s.on("throw", () => {
      throw new Error("handler bug");
    });
    s.on("kick", () => s.disconnect());
  });
  h.io.of("/admin").use((socket, next) => {
    if (socket.handshake.auth.key === "sesame") next();
    else next(Object.assign(new Error("not allowed"), { data: { reason: "bad key" } }));
  });
  h.io.of("/admin").on("connection", (s) => s.emit("admin-hello"));
});
afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});
afterAll(() => h.close());

function client(opts: Parameters<typeof connect>[1] = {}, nsp = "/"): ClientSocket {
  const c = connect(`${h.url}${nsp}`, { forceNew: true, reconnection: false, ...opts });
  clients.push(c);
  return c;
}

const MODES: Record<string, { transports?: ("websocket" | "polling")[] }> = {
  default: {},
  websocket: { transports: ["websocket"] },
  polling: { transports: ["polling"] },
};

for (const [mode, opts] of Object.entries(MODES)) {
  describe(`socket.io-client, ${mode} transports`, () => {
    test("connects, gets the auth back, acks both ways", async () => {
      const c = client({ ...opts, auth: { token: "t1" } });
      const welcome = await waitFor(c, "welcome");
      expect(welcome.auth).toEqual({ token: "t1" });
      expect(await c.timeout(2000).emitWithAck("echo", 1, "two", { three: [3] })).toBe(1);
      c.on("question", (q: string, ack: (a: string) => void) => ack(`${q}!`));
      expect(await c.timeout(3000).emitWithAck("ask-me", "ping")).toEqual({ answer: "ping!" });
      expect(await c.timeout(3000).emitWithAck("ask-silent")).toBe("operation has timed out");
    });

    test("binary both ways, nested and several attachments", async () => {
      const c = client(opts);
      await waitFor(c, "welcome");
      const payload = { a: new Uint8Array([1, 2, 3]), nested: [{ b: new Uint8Array([4, 5]).buffer }], text: "t" };
      const back = waitFor(c, "echo");
      c.emit("echo", payload, Buffer.from([9]));
      const got = await back;
      expect(new Uint8Array(got.a)).toEqual(new Uint8Array([1, 2, 3]));
      expect(new Uint8Array(got.nested[0].b)).toEqual(new Uint8Array([4, 5]));
      expect(got.text).toBe("t");
      const acked = await c.timeout(2000).emitWithAck("echo", new Uint8Array([7, 7]));
      expect(new Uint8Array(acked)).toEqual(new Uint8Array([7, 7]));
    });
  });
}

test("a handler that throws does not break the connection", async () => {
  const c = client();
  await waitFor(c, "welcome");
  c.emit("throw");
  expect(await c.timeout(2000).emitWithAck("echo", "still here")).toBe("still here");
});

test("namespaces: middleware rejection → connect_error with data; unknown namespace → Invalid namespace", async () => {
  const denied = client({ auth: { key: "wrong" } }, "/admin");
  const err = await waitFor(denied, "connect_error");
  expect(err.message).toBe("not allowed");
  expect(err.data).toEqual({ reason: "bad key" });
  const allowed = client({ auth: { key: "sesame" } }, "/admin");
  await waitFor(allowed, "admin-hello");
  const unknown = client({}, "/nowhere");
  expect((await waitFor(unknown, "connect_error")).message).toBe("Invalid namespace");
});

test("server-side disconnect: the client is told and does not reconnect", async () => {
  const c = client({ reconnection: true });
  await waitFor(c, "welcome");
  const reason = waitFor(c, "disconnect");
  c.emit("kick");
  expect(await reason).toBe("io server disconnect");
});

test("the client reconnects by itself when the server drops its transport", async () => {
  const c = client({ reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100, transports: ["websocket"] });
  await waitFor(c, "welcome");
  const reason = waitFor(c, "disconnect");
  for (const s of h.io.engine.sessions.values()) s.ws?.close();
  expect(await reason).toBe("transport close");
  await waitFor(c, "welcome", 5000, "reconnected");
  expect(c.connected).toBe(true);
});
