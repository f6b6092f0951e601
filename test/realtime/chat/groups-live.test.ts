/**
 * A 3-member group driven by the official socket.io-client, over the default
 * transports (polling, then websocket) and websocket only: creation,
 * new_message to every member, message_notification with each recipient's own
 * unread count, typing to the other members, messages_read, presence among
 * co-members, and removal (conversation_removed, then nothing more of it).
 * An outsider's socket receives nothing throughout.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Socket } from "socket.io-client";
import { api, login, type TestUser } from "../../helpers/api.ts";
import { closeAllClients, connectAs, request, TRANSPORT_MODES, upgraded } from "../../helpers/clients.ts";
import { startTestServer, type TestServer } from "../../helpers/server.ts";
import { collect, waitFor, waitUntil } from "../../helpers/wait.ts";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer("groupslive", { RATE_SEND_PER_10S: "100000" });
});
afterEach(closeAllClients);
afterAll(() => s.stopAndDrop());

let n = 0;
async function people(): Promise<[TestUser, TestUser, TestUser, TestUser]> {
  n++;
  return (await Promise.all(["ada", "bob", "cy", "eve"].map((p) => login(s, `${p}${n}@live.test`, p)))) as [TestUser, TestUser, TestUser, TestUser];
}

/** A round trip on each socket: anything emitted to it before has arrived by then. */
const settle = (...sockets: Socket[]) => Promise.all(sockets.map((c) => request(c, "get_online_users")));

for (const mode of TRANSPORT_MODES) {
  describe(`a 3-member group (${mode})`, () => {
    test("create, talk, type, read: every member gets what is theirs, the outsider nothing", async () => {
      const [ada, bob, cy, eve] = await people();
      const [a, b, c, e] = await Promise.all([connectAs(s, ada.token, mode), connectAs(s, bob.token, mode), connectAs(s, cy.token, mode), connectAs(s, eve.token, mode)]);
      if (mode === "default") await Promise.all([a, b, c].map(upgraded));
      const outsider = ["conversation_created", "new_message", "message_notification", "user_typing", "messages_read"].map((ev) => collect(e, ev));

      const created = waitFor(c, "conversation_created");
      const g = await api(s, "POST", "/api/conversations", { token: ada.token, body: { conversation_type: "group", title: "Live", members: [bob.email, cy.email] } });
      expect(g.status).toBe(201);
      const announced = await created;
      expect(announced.conversation).toMatchObject({ id: g.body.id, title: "Live", conversation_type: "group", roles: { [ada.email]: "owner" } });

      const got = [a, b, c].map((x) => collect(x, "new_message"));
      const notes = [a, b, c].map((x) => collect(x, "message_notification"));
      const ack1 = await request(b, "send_message", { conversation_id: g.body.id, message: "one" });
      expect(ack1.ok).toBe(true);
      const ack2 = await request(b, "send_message", { conversation_id: g.body.id, message: "two" });
      expect(ack2.ok).toBe(true);
      await waitUntil(() => got.every((x) => x.length === 2), 5000, "two new_message on every member");
      await waitUntil(() => notes[0]!.length === 2 && notes[2]!.length === 2, 5000, "notifications");
      expect(notes[0]!.map((x) => x.unread_count)).toEqual([1, 2]);
      expect(notes[2]!.map((x) => x.unread_count)).toEqual([1, 2]);

      // cy reads up to the first message: her next notification counts from there, ada's does not.
      const readSeen = [a, b].map((x) => waitFor(x, "messages_read"));
      const read = await request(c, "mark_as_read", { conversation_id: g.body.id, up_to_seq: 1 });
      expect(read).toMatchObject({ ok: true, last_read_seq: 1, unread_count: 1 });
      for (const r of await Promise.all(readSeen)) expect(r).toMatchObject({ conversation_id: g.body.id, reader_email: cy.email, last_read_seq: 1 });
      await request(a, "send_message", { conversation_id: g.body.id, message: "three" });
      await waitUntil(() => notes[2]!.length === 3 && notes[1]!.length === 1, 5000, "third notification");
      expect(notes[2]![2].unread_count).toBe(2);
      expect(notes[1]![0].unread_count).toBe(1);
      await settle(b);
      expect(notes[1]!.length).toBe(1);
      expect(notes[0]!.length).toBe(2); // never notified of her own message

      const typingB = waitFor(b, "user_typing");
      const typingC = waitFor(c, "user_typing");
      expect((await request(a, "typing_start", { conversation_id: g.body.id })).ok).toBe(true);
      for (const t of await Promise.all([typingB, typingC])) expect(t).toEqual({ user_email: ada.email, conversation_id: g.body.id, typing: true });

      // Presence: group co-members are contacts.
      expect((await request(a, "get_online_users")).users.sort()).toEqual([bob.email, cy.email].sort());

      await settle(e, a, b, c);
      for (const list of outsider) expect(list).toEqual([]);
    });

    test("a removed member gets conversation_removed and from then on nothing of it, not even through its room", async () => {
      const [ada, bob, cy] = await people();
      const g = (await api(s, "POST", "/api/conversations", { token: ada.token, body: { conversation_type: "group", title: "Soon", members: [bob.email, cy.email] } })).body;
      const [a, b, c] = await Promise.all([connectAs(s, ada.token, mode), connectAs(s, bob.token, mode), connectAs(s, cy.token, mode)]);
      expect((await request(c, "join_conversation", { conversation_id: g.id })).ok).toBe(true);
      expect(s.io.of("/").fetchSocketIds(`conversation:${g.id}`)).toEqual([c.id!]);
      const removed = waitFor(c, "conversation_removed");
      const updated = waitFor(b, "conversation_updated");
      expect((await api(s, "DELETE", `/api/conversations/${g.id}/members/${cy.email}`, { token: ada.token })).status).toBe(200);
      expect(await removed).toEqual({ conversation_id: g.id });
      expect((await updated).conversation.participants).toEqual([ada.email, bob.email]);
      expect(s.io.of("/").fetchSocketIds(`conversation:${g.id}`)).toEqual([]);

      const after = ["new_message", "message_notification", "user_typing", "message_edited", "reaction_updated", "messages_read"].map((ev) => collect(c, ev));
      const m = await request(a, "send_message", { conversation_id: g.id, message: "without cy" });
      await request(b, "add_reaction", { message_id: m.message.id, emoji: "👍" });
      await request(a, "edit_message", { message_id: m.message.id, message: "still without cy" });
      await request(b, "typing_start", { conversation_id: g.id });
      await request(b, "mark_as_read", { conversation_id: g.id });
      expect(await request(c, "send_message", { conversation_id: g.id, message: "hello?" })).toMatchObject({ ok: false, error: { code: "CONVERSATION_NOT_FOUND" } });
      expect(await request(c, "typing_start", { conversation_id: g.id })).toMatchObject({ ok: false });
      expect(await request(c, "join_conversation", { conversation_id: g.id })).toMatchObject({ ok: false, error: { code: "CONVERSATION_NOT_FOUND" } });
      await settle(a, b, c);
      for (const list of after) expect(list).toEqual([]);
    });
  });
}

test("edit, delete and reactions reach the members' sockets only, with their documented payloads", async () => {
  const [ada, bob, cy, eve] = await people();
  const g = (await api(s, "POST", "/api/conversations", { token: ada.token, body: { conversation_type: "group", title: "Events", members: [bob.email, cy.email] } })).body;
  const [a, b, c, e] = await Promise.all([connectAs(s, ada.token), connectAs(s, bob.token), connectAs(s, cy.token), connectAs(s, eve.token)]);
  const outsider = ["message_edited", "message_deleted", "reaction_updated"].map((ev) => collect(e, ev));
  const sent = await request(b, "send_message", { conversation_id: g.id, message: "tpyo" });

  const edited = [a, c].map((x) => waitFor(x, "message_edited"));
  const ack = await request(b, "edit_message", { message_id: sent.message.id, message: "typo" });
  expect(ack).toMatchObject({ ok: true, message: { message: "typo", edited: true } });
  for (const x of await Promise.all(edited)) expect(x.message).toMatchObject({ id: sent.message.id, message: "typo", edited: true });
  expect(await request(c, "edit_message", { message_id: sent.message.id, message: "mine now" })).toMatchObject({ ok: false, error: { code: "FORBIDDEN" } });
  expect(await request(e, "edit_message", { message_id: sent.message.id, message: "x" })).toMatchObject({ ok: false, error: { code: "MESSAGE_NOT_FOUND" } });

  const reacted = [a, b].map((x) => waitFor(x, "reaction_updated"));
  expect((await request(c, "add_reaction", { message_id: sent.message.id, emoji: "🎉" })).ok).toBe(true);
  for (const x of await Promise.all(reacted)) expect(x).toEqual({ message_id: sent.message.id, conversation_id: g.id, reactions: { "🎉": [cy.email] } });
  expect(await request(c, "add_reaction", { message_id: sent.message.id, emoji: "nope" })).toMatchObject({ ok: false, error: { code: "VALIDATION_FAILED" } });
  const unreacted = waitFor(a, "reaction_updated");
  expect((await request(c, "remove_reaction", { message_id: sent.message.id, emoji: "🎉" })).ok).toBe(true);
  expect((await unreacted).reactions).toEqual({});

  const deleted = [a, b, c].map((x) => waitFor(x, "message_deleted"));
  expect((await request(a, "delete_message", { message_id: sent.message.id })).ok).toBe(true);
  for (const x of await Promise.all(deleted)) expect(x).toEqual({ id: sent.message.id, conversation_id: g.id });

  await settle(e, a);
  for (const list of outsider) expect(list).toEqual([]);
});

test("200 concurrent socket sends into a group: every notification carries the recipient's exact unread count", async () => {
  const [ada, bob, cy] = await people();
  const g = (await api(s, "POST", "/api/conversations", { token: ada.token, body: { conversation_type: "group", title: "Busy", members: [bob.email, cy.email] } })).body;
  const [a, b, c] = await Promise.all([connectAs(s, ada.token, "websocket"), connectAs(s, bob.token, "websocket"), connectAs(s, cy.token, "websocket")]);
  const notes = [a, b, c].map((x) => collect(x, "message_notification"));
  const acks = await Promise.all(
    Array.from({ length: 200 }, (_, i) => request(i % 2 ? b : a, "send_message", { conversation_id: g.id, message: `n${i}` })),
  );
  expect(acks.every((x) => x.ok)).toBe(true);
  await waitUntil(() => notes[0]!.length === 100 && notes[1]!.length === 100 && notes[2]!.length === 200, 10_000, "every notification");
  const senderOf = new Map<number, string>(acks.map((x) => [x.message.seq, x.message.sender_email]));
  expect([...senderOf.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  // Nobody reads: a recipient's count at seq N is the messages up to N that others sent.
  [ada, bob, cy].forEach((u, k) => {
    for (const n of notes[k]!) {
      const expected = [...senderOf].filter(([seq, from]) => seq <= n.message.seq && from !== u.email).length;
      expect(n.unread_count).toBe(expected);
    }
  });
  const list = (await api(s, "GET", "/api/conversations", { token: cy.token })).body.find((x: any) => x.id === g.id);
  expect(list.unread_count[cy.email]).toBe(200);
});

test("bad payloads for the new events are refused with VALIDATION_FAILED, never a crash", async () => {
  const [ada] = await people();
  const a = await connectAs(s, ada.token, "websocket");
  const errors = collect(a, "error");
  const cases: [string, unknown][] = [
    ["edit_message", null],
    ["edit_message", { message_id: "x", message: "y" }],
    ["edit_message", { message_id: "0".repeat(24), message: "" }],
    ["delete_message", { message_id: 42 }],
    ["add_reaction", { message_id: "0".repeat(24), emoji: { $gt: "" } }],
    ["remove_reaction", { message_id: "0".repeat(24), emoji: "x".repeat(100) }],
    ["mark_as_read", { conversation_id: "0".repeat(24), up_to_seq: "3" }],
    ["send_message", { to_email: ada.email, conversation_id: "0".repeat(24), message: "both" }],
    ["send_message", { message: "neither" }],
  ];
  for (const [event, payload] of cases) {
    expect(await request(a, event, payload)).toMatchObject({ ok: false, error: { code: "VALIDATION_FAILED" } });
  }
  await waitUntil(() => errors.length === cases.length, 5000, "one error event per refusal");
  expect(errors.map((e) => e.event)).toEqual(cases.map(([event]) => event));
  expect(a.connected).toBe(true);
});
