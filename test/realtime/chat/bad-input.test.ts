import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { api, login, type TestUser } from "../../helpers/api.ts";
import { closeAllClients, connectAs, request } from "../../helpers/clients.ts";
import { startTestServer, type TestServer } from "../../helpers/server.ts";
import { waitFor } from "../../helpers/wait.ts";

let s: TestServer;
let limited: TestServer;
let ada: TestUser;
let bob: TestUser;
beforeAll(async () => {
  s = await startTestServer("badinput");
  limited = await startTestServer("ratelimit", { RATE_SEND_PER_10S: "5", RATE_TYPING_PER_10S: "3" });
  ada = await login(s, "ada@example.com", "Ada");
  bob = await login(s, "bob@example.com", "Bob");
});
afterEach(closeAllClients);
afterAll(async () => {
  await s.stopAndDrop();
  await limited.stopAndDrop();
});

const cases: [string, string, unknown, string][] = [
  ["send_message without fields", "send_message", {}, "VALIDATION_FAILED"],
  ["send_message with a number", "send_message", 42, "VALIDATION_FAILED"],
  ["send_message with a string", "send_message", "hello", "VALIDATION_FAILED"],
  ["send_message with wrong types", "send_message", { to_email: ["x"], message: { $gt: "" } }, "VALIDATION_FAILED"],
  ["send_message to nobody", "send_message", { to_email: "ghost@example.com", message: "hi" }, "USER_NOT_FOUND"],
  ["send_message to self", "send_message", { to_email: "ada@example.com", message: "hi" }, "CANNOT_MESSAGE_SELF"],
  ["join_conversation with a bad id", "join_conversation", { conversation_id: "../../etc" }, "VALIDATION_FAILED"],
  ["join_conversation with an unknown id", "join_conversation", { conversation_id: "65f1c0ffee0123456789abcd" }, "CONVERSATION_NOT_FOUND"],
  ["leave_conversation with an unknown id", "leave_conversation", { conversation_id: "65f1c0ffee0123456789abcd" }, "CONVERSATION_NOT_FOUND"],
  ["mark_as_read with an unknown id", "mark_as_read", { conversation_id: "65f1c0ffee0123456789abcd" }, "CONVERSATION_NOT_FOUND"],
  ["mark_as_read without payload", "mark_as_read", undefined, "VALIDATION_FAILED"],
  ["typing_start with null", "typing_start", null, "VALIDATION_FAILED"],
];

test("every bad payload gets an error event and an ack error, and the connection stays usable", async () => {
  const c = await connectAs(s, ada.token, "websocket");
  for (const [name, event, payload, code] of cases) {
    const errEvent = waitFor(c, "error", 3000, name);
    const ack = await request(c, event, payload);
    expect(ack, name).toMatchObject({ ok: false, error: { code } });
    const ev = await errEvent;
    expect(ev, name).toMatchObject({ code, event });
    expect(typeof ev.message).toBe("string");
  }
  expect(c.connected).toBe(true);
  expect((await request(c, "send_message", { to_email: bob.email, message: "still works" })).ok).toBe(true);
});

test("leave_conversation of a conversation the caller is not in answers as join_conversation does", async () => {
  const cy = await login(s, "cy@example.com", "Cy");
  const conv = await api(s, "POST", "/api/conversations/start", { token: bob.token, body: { to_email: cy.email } });
  const c = await connectAs(s, ada.token, "websocket");
  const conversation_id = conv.body.id;
  const join = await request(c, "join_conversation", { conversation_id });
  expect(join).toMatchObject({ ok: false, error: { code: "CONVERSATION_NOT_FOUND" } });
  expect(await request(c, "leave_conversation", { conversation_id })).toEqual(join);
});

test("without an ack callback the error event alone reports the failure", async () => {
  const c = await connectAs(s, ada.token, "default");
  const err = waitFor(c, "error");
  c.emit("send_message", { to_email: 12 });
  expect(await err).toMatchObject({ code: "VALIDATION_FAILED", event: "send_message" });
});

test("a 1 MB message is refused with an error, not by dropping the connection", async () => {
  const c = await connectAs(s, ada.token, "websocket");
  const ack = await request(c, "send_message", { to_email: bob.email, message: "x".repeat(1_000_000) }, 10_000);
  expect(ack).toMatchObject({ ok: false, error: { code: "VALIDATION_FAILED" } });
  expect(c.connected).toBe(true);
});

test("send_message and typing are rate limited per user (invalid attempts count too)", async () => {
  const a = await login(limited, "ada@example.com", "Ada");
  const b = await login(limited, "bob@example.com", "Bob");
  const c = await connectAs(limited, a.token, "websocket");
  const acks = [];
  for (let i = 0; i < 7; i++) acks.push(await request(c, "send_message", { to_email: b.email, message: `r${i}` }));
  expect(acks.filter((a) => a.ok).length).toBe(5);
  expect(acks[6]).toMatchObject({ ok: false, error: { code: "RATE_LIMITED", message: "rate limited" } });
  const conversation_id = acks[0].message.conversation_id;
  const typing = [];
  for (let i = 0; i < 4; i++) typing.push(await request(c, "typing_start", { conversation_id }));
  expect(typing.map((t) => t.ok)).toEqual([true, true, true, false]);
  expect(c.connected).toBe(true);
});
