import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { api, login, type TestUser } from "../../helpers/api.ts";
import { closeAllClients, connectAs, request } from "../../helpers/clients.ts";
import { startTestServer, type TestServer } from "../../helpers/server.ts";
import { collect, waitFor, waitUntil } from "../../helpers/wait.ts";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer("presence", { TYPING_TTL_MS: "300" });
});
afterEach(closeAllClients);
afterAll(() => s.stopAndDrop());

let n = 0;
async function pairWithConversation(): Promise<[TestUser, TestUser, TestUser, string]> {
  n++;
  const [a, b, e] = await Promise.all([login(s, `pa${n}@example.com`, "A"), login(s, `pb${n}@example.com`, "B"), login(s, `pe${n}@example.com`, "E")]);
  const conv = await api(s, "POST", "/api/conversations/start", { token: a.token, body: { to_email: b.email } });
  return [a, b, e, conv.body.id];
}

describe("presence", () => {
  test("online with the first tab, offline only after the last tab closes; only contacts are told", async () => {
    const [a, b, e] = await pairWithConversation();
    const bSock = await connectAs(s, b.token, "websocket");
    const eSock = await connectAs(s, e.token, "websocket");
    const eSeen = [...collect(eSock, "user_online"), ...collect(eSock, "user_offline")];
    const online = waitFor(bSock, "user_online");
    const tab1 = await connectAs(s, a.token, "default");
    expect(await online).toEqual({ email: a.email });
    const onlines = collect(bSock, "user_online");
    const offlines = collect(bSock, "user_offline");
    const tab2 = await connectAs(s, a.token, "websocket");
    tab1.disconnect();
    // Still online through tab2: ask the server, which answers after handling the close.
    await waitUntil(async () => (await request(bSock, "get_online_users")).users.includes(a.email), 3000, "a still online");
    expect(offlines).toEqual([]);
    expect((await api(s, "GET", "/api/users/me", { token: a.token })).body.is_online).toBe(true);
    const off = waitFor(bSock, "user_offline");
    tab2.disconnect();
    const ev = await off;
    expect(ev.email).toBe(a.email);
    expect(typeof ev.last_seen).toBe("string");
    expect(onlines).toEqual([]);
    expect((await request(bSock, "get_online_users")).users).not.toContain(a.email);
    await waitUntil(async () => (await api(s, "GET", "/api/users/me", { token: a.token })).body.is_online === false, 3000, "is_online false");
    expect(eSeen).toEqual([]);
  });

  test("get_online_users answers with an online_users event and the ack", async () => {
    const [a, b] = await pairWithConversation();
    const aSock = await connectAs(s, a.token, "websocket");
    await connectAs(s, b.token, "websocket");
    const ev = waitFor(aSock, "online_users");
    const ack = await request(aSock, "get_online_users");
    expect(ack.users).toContain(b.email);
    expect((await ev).users).toContain(b.email);
  });
});

describe("typing", () => {
  test("user_typing reaches the other participant only, never the typist or an outsider, and expires by itself", async () => {
    const [a, b, e, convId] = await pairWithConversation();
    const aSock = await connectAs(s, a.token, "websocket");
    const bSock = await connectAs(s, b.token, "default");
    const eSock = await connectAs(s, e.token, "websocket");
    const aSeen = collect(aSock, "user_typing");
    const eSeen = collect(eSock, "user_typing");
    const started = waitFor(bSock, "user_typing");
    expect((await request(aSock, "typing_start", { conversation_id: convId })).ok).toBe(true);
    expect(await started).toEqual({ user_email: a.email, conversation_id: convId, typing: true });
    const expired = waitFor(bSock, "user_typing", 3000, "typing expiry");
    expect(await expired).toEqual({ user_email: a.email, conversation_id: convId, typing: false });

    const stopped = waitFor(bSock, "user_typing");
    await request(aSock, "typing_start", { conversation_id: convId });
    await stopped;
    const stop = waitFor(bSock, "user_typing");
    await request(aSock, "typing_stop", { conversation_id: convId });
    expect((await stop).typing).toBe(false);

    const refused = await request(eSock, "typing_start", { conversation_id: convId });
    expect(refused).toMatchObject({ ok: false, error: { code: "CONVERSATION_NOT_FOUND" } });
    await request(aSock, "get_online_users");
    expect(aSeen).toEqual([]);
    expect(eSeen).toEqual([]);
  });

  test("join and leave a conversation as a participant", async () => {
    const [a, , , convId] = await pairWithConversation();
    const aSock = await connectAs(s, a.token, "websocket");
    expect(await request(aSock, "join_conversation", { conversation_id: convId })).toEqual({ ok: true, conversation_id: convId });
    expect(await request(aSock, "leave_conversation", { conversation_id: convId })).toEqual({ ok: true, conversation_id: convId });
  });
});

test("a conversation started after both are online makes them contacts: presence flows from then on", async () => {
  n++;
  const [a, b] = await Promise.all([login(s, `late-a${n}@example.com`, "A"), login(s, `late-b${n}@example.com`, "B")]);
  const bSock = await connectAs(s, b.token, "websocket");
  const aSock = await connectAs(s, a.token, "websocket");
  expect((await request(bSock, "get_online_users")).users).toEqual([]);
  await request(aSock, "send_message", { to_email: b.email, message: "hi" });
  expect((await request(bSock, "get_online_users")).users).toEqual([a.email]);
  const off = waitFor(bSock, "user_offline");
  aSock.disconnect();
  expect((await off).email).toBe(a.email);
});
