/** Binary attachments over long-polling as third-party clients encode them (base64 with line breaks). */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { poll, pollingHandshake, post, startHarness, type Harness } from "./harness.ts";

let h: Harness;
beforeAll(() => {
  h = startHarness();
  h.io.on("connection", (socket) => {
    socket.on("upload", (file: Buffer, ack: (r: unknown) => void) => ack({ size: file.length, sum: [...file].reduce((a, b) => a + b, 0) }));
  });
});
afterAll(() => h.close());

async function connected(): Promise<string> {
  const { sid } = await pollingHandshake(h.url);
  expect(await (await post(h.url, sid, "40")).text()).toBe("ok");
  expect((await (await poll(h.url, sid)).text()).startsWith('40{"sid"')).toBe(true);
  return sid;
}

/** What io.socket:socket.io-client 2.1.2 sends: android-style Base64.DEFAULT, a `\n` every 76 characters and at the end. */
function javaBase64(bytes: Uint8Array): string {
  return `${Buffer.from(bytes).toString("base64").replace(/.{76}/g, "$&\n")}\n`;
}

test("a base64 attachment wrapped in lines and ending with \\n is accepted (Java client 2.1.2)", async () => {
  const sid = await connected();
  const bytes = Uint8Array.from({ length: 100 }, (_, i) => i);
  const body = `451-0["upload",{"_placeholder":true,"num":0}]\x1eb${javaBase64(bytes)}`;
  expect(body.endsWith("\n")).toBe(true);
  const res = await post(h.url, sid, body);
  expect(res.status).toBe(200);
  expect(await (await poll(h.url, sid)).text()).toBe(`430[{"size":100,"sum":${(99 * 100) / 2}}]`);
});

test("the shortest form, `bAQID\\n`, decodes to the same three bytes", async () => {
  const sid = await connected();
  expect((await post(h.url, sid, '451-1["upload",{"_placeholder":true,"num":0}]\x1ebAQID\n')).status).toBe(200);
  expect(await (await poll(h.url, sid)).text()).toBe('431[{"size":3,"sum":6}]');
});

test("characters outside base64 (which Node would silently drop) still close the session", async () => {
  const sid = await connected();
  const res = await post(h.url, sid, '451-["upload",{"_placeholder":true,"num":0}]\x1ebAQ!ID');
  expect(res.status).toBe(400);
  expect(await res.json()).toEqual({ code: 3, message: "Bad request" });
  expect((await poll(h.url, sid)).status).toBe(400);
});
