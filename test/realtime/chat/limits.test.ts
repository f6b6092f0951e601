/** Per-user limits across all sockets of a user: event budgets, RATE_LIMITED with retry_after_ms, MAX_SOCKETS_PER_USER. */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { login, type TestUser } from "../../helpers/api.ts";
import { closeAllClients, connectAs, request } from "../../helpers/clients.ts";
import { startTestServer, type TestServer } from "../../helpers/server.ts";
import { collect } from "../../helpers/wait.ts";

let s: TestServer;
let ada: TestUser;
let bob: TestUser;
beforeAll(async () => {
  s = await startTestServer("limits", {
    RATE_SEND_PER_10S: "6",
    RATE_READ_PER_10S: "2",
    RATE_JOIN_PER_10S: "2",
    RATE_PRESENCE_PER_10S: "2",
    MAX_SOCKETS_PER_USER: "3",
  });
  ada = await login(s, "ada@example.com", "Ada");
  bob = await login(s, "bob@example.com", "Bob");
});
afterEach(closeAllClients);
afterAll(() => s.stopAndDrop());

test("the send budget is per user across all sockets; refusals carry retry_after_ms and the connection stays up", async () => {
  const sockets = await Promise.all([1, 2, 3].map(() => connectAs(s, ada.token, "websocket")));
  const errors = collect(sockets[0]!, "error");
  const acks = [];
  for (let i = 0; i < 9; i++) acks.push(await request(sockets[i % 3]!, "send_message", { to_email: bob.email, message: `m${i}` }));
  expect(acks.filter((a) => a.ok).length).toBe(6);
  const refused = acks.filter((a) => !a.ok);
  expect(refused.length).toBe(3);
  for (const r of refused) {
    expect(r.error.code).toBe("RATE_LIMITED");
    expect(r.error.retry_after_ms).toBeGreaterThan(0);
    expect(r.error.retry_after_ms).toBeLessThanOrEqual(10_000);
  }
  expect(errors.some((e) => e.code === "RATE_LIMITED" && e.event === "send_message" && e.retry_after_ms > 0)).toBe(true);
  expect(sockets.every((c) => c.connected)).toBe(true);
  // Another user's budget is untouched.
  const b = await connectAs(s, bob.token, "websocket");
  expect(await request(b, "send_message", { to_email: ada.email, message: "hi" })).toMatchObject({ ok: true });
});

test("read, join/leave and get_online_users have budgets of their own", async () => {
  const [c1, c2] = await Promise.all([connectAs(s, bob.token, "websocket"), connectAs(s, bob.token, "websocket")]);
  const sent = await request(c1, "send_message", { to_email: ada.email, message: "x" });
  const conversation_id = sent.message.conversation_id;
  const codes = async (event: string, payload?: unknown) =>
    [await request(c1, event, payload), await request(c2, event, payload), await request(c1, event, payload)].map((a) => a.ok || a.error.code);
  expect(await codes("mark_as_read", { conversation_id })).toEqual([true, true, "RATE_LIMITED"]);
  expect(await codes("join_conversation", { conversation_id })).toEqual([true, true, "RATE_LIMITED"]);
  expect((await request(c2, "leave_conversation", { conversation_id })).error.code).toBe("RATE_LIMITED");
  expect(await codes("get_online_users")).toEqual([true, true, "RATE_LIMITED"]);
});

test("MAX_SOCKETS_PER_USER: one socket too many gets connect_error TOO_MANY_CONNECTIONS, even in a parallel burst", async () => {
  const carol = await login(s, "carol@example.com", "Carol");
  const results = await Promise.allSettled(Array.from({ length: 8 }, () => connectAs(s, carol.token, "websocket")));
  expect(results.filter((r) => r.status === "fulfilled").length).toBe(3);
  for (const r of results.filter((r) => r.status === "rejected")) {
    expect((r as PromiseRejectedResult).reason).toMatchObject({ message: "too many connections", data: { code: "TOO_MANY_CONNECTIONS" } });
  }
  // Closing one frees a place.
  const first = (results.find((r) => r.status === "fulfilled") as PromiseFulfilledResult<Awaited<ReturnType<typeof connectAs>>>).value;
  first.disconnect();
  const { waitUntil } = await import("../../helpers/wait.ts");
  await waitUntil(async () => {
    try {
      await connectAs(s, carol.token, "websocket");
      return true;
    } catch {
      return false;
    }
  }, 3000, "a freed socket place");
});
