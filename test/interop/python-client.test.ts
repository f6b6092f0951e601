/**
 * A python-socketio client (installed by scripts/prepare-python-client.sh, run
 * by `npm test` via pretest) connects, sends, gets its ack and the live
 * new_message, and sees a validation error, over polling+upgrade and websocket. Its new_message handler takes
 * exactly one argument, and the server runs with connection state recovery on: events arrive as emitted.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { login, type TestUser } from "../helpers/api.ts";
import { closeAllClients, connectAs } from "../helpers/clients.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { waitFor } from "../helpers/wait.ts";

const root = resolve(import.meta.dir, "../..");
const python = resolve(root, ".cache/pyclient/bin/python");

let s: TestServer;
let ada: TestUser;
let bob: TestUser;
beforeAll(async () => {
  if (!existsSync(python)) throw new Error("python client missing: run `bash scripts/prepare-python-client.sh` (npm test does it)");
  s = await startTestServer("pyclient");
  ada = await login(s, "ada@example.com", "Ada");
  bob = await login(s, "bob@example.com", "Bob");
});
afterAll(async () => {
  closeAllClients();
  await s.stopAndDrop();
});

for (const transport of ["polling", "default", "websocket"] as const) {
  test(`python-socketio (${transport}) sends and receives like any client`, async () => {
    const bobSock = await connectAs(s, bob.token, "websocket");
    const toBob = waitFor(bobSock, "new_message", 10_000, "message from the python client");
    const proc = Bun.spawn([python, resolve(import.meta.dir, "python_client.py"), s.url, ada.token, bob.email, transport], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const killer = setTimeout(() => proc.kill(), 20_000);
    const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    clearTimeout(killer);
    expect(code, err).toBe(0);
    const events = out.trim().split("\n").map((l) => JSON.parse(l) as { event: string; data: any });
    const byName = (n: string) => events.find((e) => e.event === n)?.data;
    // "default" starts on polling and may have upgraded by now; the others stay on their one transport.
    if (transport !== "default") expect(byName("transport")).toBe(transport);
    expect(byName("ack")).toMatchObject({ ok: true, message: { message: "hello from python", sender_email: ada.email } });
    expect(byName("bad_ack")).toMatchObject({ ok: false, error: { code: "VALIDATION_FAILED" } });
    expect(byName("error")).toMatchObject({ code: "VALIDATION_FAILED", event: "send_message" });
    expect(byName("new_message")).toMatchObject({ message: "hello from python" });
    expect((await toBob).message).toBe("hello from python");
    // Recovery is on (the chat server's default): the python client got offset markers after the broadcasts and
    // ignored them, and its fixed-arity `def on_new_message(data)` ran without an exception.
    expect(err).toContain('Received event "sio:offset" [/]');
    expect(err).toContain('Received event "new_message" [/]');
    expect(err).not.toMatch(/Traceback|TypeError|handler error|Exception/);
  }, 30_000);
}
