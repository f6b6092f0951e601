/**
 * Edit, delete and reactions over REST against the real database: who may do
 * what (sender, group owner/admin, member, non-member), tombstones that keep
 * seqs and cursors stable, last_message corrected, and the reaction rules.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { api, login, type TestUser } from "../helpers/api.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let s: TestServer;
let ada: TestUser;
let bob: TestUser;
let cy: TestUser;
let eve: TestUser;
let group = "";
beforeAll(async () => {
  s = await startTestServer("lifecycle", { RATE_SEND_PER_10S: "1000000", RATE_REST_WRITE_PER_MIN: "1000000" });
  [ada, bob, cy, eve] = (await Promise.all(["ada", "bob", "cy", "eve"].map((n) => login(s, `${n}@life.test`, n)))) as [TestUser, TestUser, TestUser, TestUser];
  const g = await api(s, "POST", "/api/conversations", { token: ada.token, body: { conversation_type: "group", title: "Life", members: [bob.email, cy.email] } });
  group = g.body.id;
  await api(s, "PATCH", `/api/conversations/${group}/members/${bob.email}`, { token: ada.token, body: { role: "admin" } });
});
afterAll(() => s.stopAndDrop());

const send = async (u: TestUser, message: string, conversation_id = group) =>
  (await api(s, "POST", "/api/messages/send", { token: u.token, body: { conversation_id, message } })).body.message;
const conversation = async (u: TestUser, id = group) => (await api(s, "GET", "/api/conversations", { token: u.token })).body.find((c: any) => c.id === id);
const react = (u: TestUser, id: string, emoji: string, method = "PUT") => api(s, method, `/api/messages/${id}/reactions/${encodeURIComponent(emoji)}`, { token: u.token });

describe("edit", () => {
  test("the sender edits: edited, edited_at, history shows the new text, the preview follows", async () => {
    const m = await send(cy, "helo");
    const r = await api(s, "PATCH", `/api/messages/${m.id}`, { token: cy.token, body: { message: "hello" } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: m.id, message: "hello", edited: true, seq: m.seq });
    expect(typeof r.body.edited_at).toBe("string");
    const page = (await api(s, "GET", `/api/conversations/${group}/messages?after=${m.seq - 1}&limit=1`, { token: ada.token })).body;
    expect(page[0]).toMatchObject({ id: m.id, message: "hello", edited: true });
    expect((await conversation(ada)).last_message).toBe("hello");
  });

  test("others → 403 (even the owner), non-members → 404, bad bodies → 422", async () => {
    const m = await send(cy, "mine");
    const byOwner = await api(s, "PATCH", `/api/messages/${m.id}`, { token: ada.token, body: { message: "yours?" } });
    expect(byOwner.status).toBe(403);
    expect(byOwner.body.error.code).toBe("FORBIDDEN");
    const outsider = await api(s, "PATCH", `/api/messages/${m.id}`, { token: eve.token, body: { message: "x" } });
    expect(outsider.status).toBe(404);
    expect(outsider.body.error.code).toBe("MESSAGE_NOT_FOUND");
    expect((await api(s, "PATCH", `/api/messages/${m.id}`, { token: cy.token, body: { message: "   " } })).status).toBe(422);
    expect((await api(s, "PATCH", `/api/messages/not-an-id`, { token: cy.token, body: { message: "x" } })).status).toBe(404);
    expect((await api(s, "PATCH", `/api/messages/${"0".repeat(24)}`, { token: cy.token, body: { message: "x" } })).status).toBe(404);
  });
});

describe("delete", () => {
  test("a tombstone keeps its seq: history and cursors stay stable; last_message is corrected", async () => {
    const p = await login(s, "p@life.test", "p");
    const q = await login(s, "q@life.test", "q");
    const sent: any[] = [];
    for (let i = 0; i < 5; i++) sent.push((await api(s, "POST", "/api/messages/send", { token: (i % 2 ? q : p).token, body: { to_email: (i % 2 ? p : q).email, message: `t${i}` } })).body.message);
    const id = sent[0].conversation_id;
    const newest = sent[4];
    const del = await api(s, "DELETE", `/api/messages/${newest.id}`, { token: p.token });
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ id: newest.id, deleted: true, message: "", reactions: {}, seq: 5 });
    expect((await conversation(p, id)).last_message).toBe("t3");
    await api(s, "DELETE", `/api/messages/${sent[2].id}`, { token: p.token });
    const all = (await api(s, "GET", `/api/conversations/${id}/messages`, { token: q.token })).body;
    expect(all.map((m: any) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(all.map((m: any) => m.deleted)).toEqual([false, false, true, false, true]);
    const before = (await api(s, "GET", `/api/conversations/${id}/messages?before=4&limit=2`, { token: q.token })).body;
    expect(before.map((m: any) => m.seq)).toEqual([2, 3]);
    const after = (await api(s, "GET", `/api/conversations/${id}/messages?after=2&limit=2`, { token: q.token })).body;
    expect(after.map((m: any) => m.seq)).toEqual([3, 4]);
    // Deleting again, or editing a tombstone: not found.
    expect((await api(s, "DELETE", `/api/messages/${newest.id}`, { token: p.token })).status).toBe(404);
    expect((await api(s, "PATCH", `/api/messages/${newest.id}`, { token: p.token, body: { message: "back" } })).status).toBe(404);
    // The other participant of a direct conversation may not delete someone else's message.
    expect((await api(s, "DELETE", `/api/messages/${sent[1].id}`, { token: p.token })).status).toBe(403);
    for (const m of sent.slice(0, 4)) if (m.sender_email === p.email) await api(s, "DELETE", `/api/messages/${m.id}`, { token: p.token });
    await api(s, "DELETE", `/api/messages/${sent[1].id}`, { token: q.token });
    await api(s, "DELETE", `/api/messages/${sent[3].id}`, { token: q.token });
    const empty = await conversation(p, id);
    expect(empty.last_message).toBeNull();
    expect(empty.last_message_sender).toBeNull();
  });

  test("in a group: the sender, the owner or an admin; a plain member → 403; a non-member → 404", async () => {
    const byAdmin = await send(cy, "spam 1");
    const byOwner = await send(cy, "spam 2");
    const ofBob = await send(bob, "bob's");
    expect((await api(s, "DELETE", `/api/messages/${ofBob.id}`, { token: cy.token })).status).toBe(403);
    expect((await api(s, "DELETE", `/api/messages/${ofBob.id}`, { token: eve.token })).status).toBe(404);
    expect((await api(s, "DELETE", `/api/messages/${byAdmin.id}`, { token: bob.token })).status).toBe(200);
    expect((await api(s, "DELETE", `/api/messages/${byOwner.id}`, { token: ada.token })).status).toBe(200);
    expect((await api(s, "DELETE", `/api/messages/${ofBob.id}`, { token: bob.token })).status).toBe(200);
  });
});

describe("reactions", () => {
  test("PUT adds (idempotent), DELETE removes (idempotent); the message view carries them", async () => {
    const m = await send(ada, "react to me");
    expect((await react(bob, m.id, "👍")).body.reactions).toEqual({ "👍": [bob.email] });
    expect((await react(bob, m.id, "👍")).body.reactions).toEqual({ "👍": [bob.email] });
    expect((await react(cy, m.id, "👍")).body.reactions).toEqual({ "👍": [bob.email, cy.email] });
    expect((await react(cy, m.id, ":party_parrot:")).status).toBe(200);
    expect((await react(ada, m.id, "🇫🇷")).status).toBe(200);
    expect((await react(ada, m.id, "👩‍👩‍👧")).status).toBe(200);
    const removed = await react(bob, m.id, "👍", "DELETE");
    expect(removed.body.reactions).toEqual({ "👍": [cy.email], ":party_parrot:": [cy.email], "🇫🇷": [ada.email], "👩‍👩‍👧": [ada.email] });
    expect((await react(bob, m.id, "👍", "DELETE")).status).toBe(200);
    const page = (await api(s, "GET", `/api/conversations/${group}/messages?after=${m.seq - 1}&limit=1`, { token: cy.token })).body;
    expect(page[0].reactions["👍"]).toEqual([cy.email]);
  });

  test("validation: one emoji or a :short_code: ≤ 32; at most 20 distinct; non-members 404; deleted messages 404", async () => {
    const m = await send(ada, "limits");
    for (const bad of ["a", "👍👍", "hello", ":" + "x".repeat(31) + ":", ":__proto__:", "::", "<b>"]) {
      const r = await react(bob, m.id, bad);
      expect(r.status).toBe(422);
      expect(r.body.error.code).toBe("VALIDATION_FAILED");
      expect(r.body.error.details.map((d: { path: string }) => d.path)).toContain("emoji");
    }
    expect((await react(bob, m.id, ":constructor:")).status).toBe(200);
    for (let i = 1; i < 20; i++) expect((await react(bob, m.id, `:r${i}:`)).status).toBe(200);
    const over = await react(bob, m.id, ":r20:");
    expect(over.status).toBe(422);
    expect((await react(cy, m.id, ":r1:")).status).toBe(200);
    expect((await react(eve, m.id, "👍")).status).toBe(404);
    await api(s, "DELETE", `/api/messages/${m.id}`, { token: ada.token });
    expect((await react(cy, m.id, "👍")).status).toBe(404);
  });
});
