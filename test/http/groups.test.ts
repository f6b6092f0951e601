/**
 * Group conversations over REST against the real database: create, list with
 * direct conversations, send by conversation_id, exact unread counts and read
 * pointers under concurrent sends, and the member-management routes with
 * their refusals (non-member 404, member without the role 403, removed member).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { api, login, type TestUser } from "../helpers/api.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let s: TestServer;
let ada: TestUser;
let bob: TestUser;
let cy: TestUser;
let eve: TestUser;
beforeAll(async () => {
  s = await startTestServer("groups", { RATE_SEND_PER_10S: "1000000", RATE_REST_WRITE_PER_MIN: "1000000", GROUP_MAX_MEMBERS: "5", MESSAGES_PAGE_MAX: "1000" });
  [ada, bob, cy, eve] = (await Promise.all(["ada", "bob", "cy", "eve"].map((n) => login(s, `${n}@groups.test`, n)))) as [TestUser, TestUser, TestUser, TestUser];
});
afterAll(() => s.stopAndDrop());

const createGroup = (owner: TestUser, members: TestUser[], title = "Team") =>
  api(s, "POST", "/api/conversations", { token: owner.token, body: { conversation_type: "group", title, members: members.map((m) => m.email) } });
const sendTo = (u: TestUser, conversation_id: string, message: string) =>
  api(s, "POST", "/api/messages/send", { token: u.token, body: { conversation_id, message } });
const listOf = async (u: TestUser) => (await api(s, "GET", "/api/conversations", { token: u.token })).body as any[];
const unreadOf = async (u: TestUser, id: string) => (await listOf(u)).find((c) => c.id === id)?.unread_count[u.email];
const history = async (u: TestUser, id: string) => (await api(s, "GET", `/api/conversations/${id}/messages?limit=1000`, { token: u.token })).body as any[];

describe("create and list", () => {
  test("create → 201 with the documented shape; the creator is owner", async () => {
    const r = await createGroup(ada, [bob, cy], "Launch");
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      conversation_type: "group",
      title: "Launch",
      participants: [ada.email, bob.email, cy.email],
      roles: { [ada.email]: "owner", [bob.email]: "member", [cy.email]: "member" },
      unread_count: { [ada.email]: 0 },
      last_message: null,
      last_message_time: null,
      last_message_sender: null,
    });
    expect(typeof r.body.id).toBe("string");
    expect(typeof r.body.created_at).toBe("string");
  });

  test("unknown emails → 404 USER_NOT_FOUND; over GROUP_MAX_MEMBERS → 422; bad bodies → 422", async () => {
    const unknown = await api(s, "POST", "/api/conversations", { token: ada.token, body: { conversation_type: "group", title: "x", members: ["ghost@groups.test"] } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("USER_NOT_FOUND");
    const others = await Promise.all([1, 2, 3, 4, 5].map((i) => login(s, `big${i}@groups.test`, "b")));
    const tooMany = await createGroup(ada, others);
    expect(tooMany.status).toBe(422);
    expect((await createGroup(ada, others.slice(0, 4))).status).toBe(201);
    for (const body of [{ conversation_type: "direct", title: "x", members: [bob.email] }, { conversation_type: "group", title: "", members: [bob.email] }, { conversation_type: "group", title: "x", members: [] }]) {
      expect((await api(s, "POST", "/api/conversations", { token: ada.token, body })).status).toBe(422);
    }
  });

  test("the list holds groups and direct conversations together, most recent activity first", async () => {
    const g = (await createGroup(ada, [bob], "Older")).body;
    const direct = await api(s, "POST", "/api/messages/send", { token: ada.token, body: { to_email: bob.email, message: "direct" } });
    const g2 = (await createGroup(bob, [ada], "Newest")).body;
    const ids = (await listOf(ada)).map((c) => c.id);
    expect(ids.indexOf(g2.id)).toBeLessThan(ids.indexOf(direct.body.message.conversation_id));
    expect(ids.indexOf(direct.body.message.conversation_id)).toBeLessThan(ids.indexOf(g.id));
    const directView = (await listOf(ada)).find((c) => c.id === direct.body.message.conversation_id);
    expect(directView.conversation_type).toBe("direct");
    expect(directView.title).toBeUndefined();
    expect(directView.roles).toBeUndefined();
    expect(await unreadOf(eve, g.id)).toBeUndefined();
  });
});

describe("sending by conversation_id", () => {
  test("members send; both or neither of to_email/conversation_id → 422; a non-member → 404", async () => {
    const g = (await createGroup(ada, [bob, cy])).body;
    const r = await sendTo(bob, g.id, "hello group");
    expect(r.status).toBe(201);
    expect(r.body.message).toMatchObject({ conversation_id: g.id, seq: 1, sender_email: bob.email, deleted: false, reactions: {} });
    const both = await api(s, "POST", "/api/messages/send", { token: ada.token, body: { to_email: bob.email, conversation_id: g.id, message: "x" } });
    expect(both.status).toBe(422);
    expect((await api(s, "POST", "/api/messages/send", { token: ada.token, body: { message: "x" } })).status).toBe(422);
    const outsider = await sendTo(eve, g.id, "let me in");
    expect(outsider.status).toBe(404);
    expect(outsider.body.error.code).toBe("CONVERSATION_NOT_FOUND");
    expect((await api(s, "GET", `/api/conversations/${g.id}/messages`, { token: eve.token })).status).toBe(404);
    expect((await api(s, "POST", `/api/conversations/${g.id}/mark-read`, { token: eve.token })).status).toBe(404);
    expect((await api(s, "GET", `/api/conversations/${g.id}/read-state`, { token: eve.token })).status).toBe(404);
    // A direct conversation can be addressed by id too.
    const direct = await api(s, "POST", "/api/messages/send", { token: ada.token, body: { to_email: cy.email, message: "hi" } });
    const byId = await sendTo(cy, direct.body.message.conversation_id, "hi back");
    expect(byId.status).toBe(201);
    expect(await unreadOf(ada, direct.body.message.conversation_id)).toBe(1);
  });

  test("unread counts and read pointers stay exact under 200 concurrent sends from three members with reads between", async () => {
    const g = (await createGroup(ada, [bob, cy])).body;
    const members = [ada, bob, cy];
    const reads = new Map<string, number[]>(members.map((m) => [m.email, [0]]));
    await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const from = members[i % 3]!;
        const r = await sendTo(from, g.id, `m${i}`);
        expect(r.status).toBe(201);
        if (i % 7 === 0) {
          const reader = members[(i + 1) % 3]!;
          const m = await api(s, "POST", `/api/conversations/${g.id}/mark-read`, { token: reader.token });
          expect(m.status).toBe(200);
          reads.get(reader.email)!.push(m.body.last_read_seq);
        }
      }),
    );
    const all = await history(ada, g.id);
    expect(all.map((m) => m.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const state = (await api(s, "GET", `/api/conversations/${g.id}/read-state`, { token: cy.token })).body as any[];
    for (const m of members) {
      const pointer = Math.max(...reads.get(m.email)!);
      expect(state.find((x) => x.email === m.email).last_read_seq).toBe(pointer);
      const expected = all.filter((x) => x.seq > pointer && x.sender_email !== m.email).length;
      expect(await unreadOf(m, g.id)).toBe(expected);
    }
  });

  test("mark-read up_to_seq: partial, never backwards; the reader's own messages never count", async () => {
    const g = (await createGroup(ada, [bob])).body;
    for (let i = 0; i < 6; i++) expect((await sendTo(i % 2 ? bob : ada, g.id, `x${i}`)).status).toBe(201);
    // ada sent seqs 1, 3, 5; bob 2, 4, 6.
    expect(await unreadOf(ada, g.id)).toBe(3);
    const partial = await api(s, "POST", `/api/conversations/${g.id}/mark-read`, { token: ada.token, body: { up_to_seq: 4 } });
    expect(partial.status).toBe(200);
    expect(partial.body).toMatchObject({ last_read_seq: 4, unread_count: 1 });
    expect(await unreadOf(ada, g.id)).toBe(1);
    const back = await api(s, "POST", `/api/conversations/${g.id}/mark-read`, { token: ada.token, body: { up_to_seq: 2 } });
    expect(back.body).toMatchObject({ last_read_seq: 4, unread_count: 1 });
    expect((await api(s, "POST", `/api/conversations/${g.id}/mark-read`, { token: ada.token, body: { up_to_seq: -1 } })).status).toBe(422);
    await sendTo(ada, g.id, "mine");
    expect(await unreadOf(ada, g.id)).toBe(1);
    const full = await api(s, "POST", `/api/conversations/${g.id}/mark-read`, { token: ada.token });
    expect(full.body).toMatchObject({ last_read_seq: 7, unread_count: 0 });
    expect(await unreadOf(ada, g.id)).toBe(0);
    expect(await unreadOf(bob, g.id)).toBe(4);
  });

  test("a direct conversation reads up to a seq too", async () => {
    const p = await login(s, "p@groups.test", "p");
    const q = await login(s, "q@groups.test", "q");
    let id = "";
    for (let i = 0; i < 4; i++) id = (await api(s, "POST", "/api/messages/send", { token: p.token, body: { to_email: q.email, message: `d${i}` } })).body.message.conversation_id;
    const r = await api(s, "POST", `/api/conversations/${id}/mark-read`, { token: q.token, body: { up_to_seq: 1 } });
    expect(r.body).toMatchObject({ last_read_seq: 1, unread_count: 3 });
    expect(await unreadOf(q, id)).toBe(3);
    const state = (await api(s, "GET", `/api/conversations/${id}/read-state`, { token: p.token })).body as any[];
    expect(state.find((x) => x.email === q.email).last_read_seq).toBe(1);
  });
});

describe("member management", () => {
  test("rename: owner or admin; a member → 403 FORBIDDEN; a non-member → 404; a direct conversation → 403", async () => {
    const g = (await createGroup(ada, [bob, cy])).body;
    const renamed = await api(s, "PATCH", `/api/conversations/${g.id}`, { token: ada.token, body: { title: "New" } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.title).toBe("New");
    const member = await api(s, "PATCH", `/api/conversations/${g.id}`, { token: bob.token, body: { title: "Mine" } });
    expect(member.status).toBe(403);
    expect(member.body.error.code).toBe("FORBIDDEN");
    expect((await api(s, "PATCH", `/api/conversations/${g.id}`, { token: eve.token, body: { title: "x" } })).status).toBe(404);
    expect((await api(s, "PATCH", `/api/conversations/${g.id}/members/${bob.email}`, { token: ada.token, body: { role: "admin" } })).status).toBe(200);
    expect((await api(s, "PATCH", `/api/conversations/${g.id}`, { token: bob.token, body: { title: "By admin" } })).status).toBe(200);
    const direct = await api(s, "POST", "/api/messages/send", { token: ada.token, body: { to_email: bob.email, message: "d" } });
    expect((await api(s, "PATCH", `/api/conversations/${direct.body.message.conversation_id}`, { token: ada.token, body: { title: "x" } })).status).toBe(403);
  });

  test("add members: owner/admin only; new members start with nothing unread and can send", async () => {
    const g = (await createGroup(ada, [bob])).body;
    await sendTo(bob, g.id, "before cy");
    expect((await api(s, "POST", `/api/conversations/${g.id}/members`, { token: bob.token, body: { emails: [cy.email] } })).status).toBe(403);
    expect((await api(s, "POST", `/api/conversations/${g.id}/members`, { token: ada.token, body: { emails: ["ghost@groups.test"] } })).status).toBe(404);
    const added = await api(s, "POST", `/api/conversations/${g.id}/members`, { token: ada.token, body: { emails: [cy.email, bob.email] } });
    expect(added.status).toBe(200);
    expect(added.body.participants).toEqual([ada.email, bob.email, cy.email]);
    expect(added.body.roles[cy.email]).toBe("member");
    expect(await unreadOf(cy, g.id)).toBe(0);
    expect((await sendTo(cy, g.id, "hi all")).status).toBe(201);
    expect(await unreadOf(ada, g.id)).toBe(2);
    expect(await unreadOf(cy, g.id)).toBe(0);
  });

  test("remove: owner/admin; admins cannot remove the owner; the removed member cannot read or send", async () => {
    const g = (await createGroup(ada, [bob, cy, eve])).body;
    await api(s, "PATCH", `/api/conversations/${g.id}/members/${bob.email}`, { token: ada.token, body: { role: "admin" } });
    expect((await api(s, "DELETE", `/api/conversations/${g.id}/members/${ada.email}`, { token: bob.token })).status).toBe(403);
    expect((await api(s, "DELETE", `/api/conversations/${g.id}/members/${bob.email}`, { token: cy.token })).status).toBe(403);
    const removed = await api(s, "DELETE", `/api/conversations/${g.id}/members/${encodeURIComponent(cy.email)}`, { token: bob.token });
    expect(removed.status).toBe(200);
    expect(removed.body.participants).not.toContain(cy.email);
    expect((await api(s, "GET", `/api/conversations/${g.id}/messages`, { token: cy.token })).status).toBe(404);
    expect((await sendTo(cy, g.id, "still here?")).status).toBe(404);
    expect((await listOf(cy)).some((c) => c.id === g.id)).toBe(false);
    expect((await api(s, "DELETE", `/api/conversations/${g.id}/members/${cy.email}`, { token: ada.token })).status).toBe(404);
    const state = (await api(s, "GET", `/api/conversations/${g.id}/read-state`, { token: ada.token })).body as any[];
    expect(state.map((x) => x.email).sort()).toEqual([ada.email, bob.email, eve.email].sort());
  });

  test("roles: owner only; giving the owner role hands ownership over", async () => {
    const g = (await createGroup(ada, [bob, cy])).body;
    expect((await api(s, "PATCH", `/api/conversations/${g.id}/members/${cy.email}`, { token: bob.token, body: { role: "admin" } })).status).toBe(403);
    expect((await api(s, "PATCH", `/api/conversations/${g.id}/members/${cy.email}`, { token: ada.token, body: { role: "boss" } })).status).toBe(422);
    // The email in the path is validated like everywhere else: malformed → 422 (never reaches the group rules); case is normalised.
    for (const method of ["PATCH", "DELETE"]) {
      const bad = await api(s, method, `/api/conversations/${g.id}/members/not-an-email`, { token: ada.token, body: { role: "admin" } });
      expect(bad.status).toBe(422);
      expect(bad.body.error.code).toBe("VALIDATION_FAILED");
    }
    expect((await api(s, "PATCH", `/api/conversations/${g.id}/members/${cy.email.toUpperCase()}`, { token: ada.token, body: { role: "member" } })).status).toBe(200);
    expect((await api(s, "PATCH", `/api/conversations/${g.id}/members/${eve.email}`, { token: ada.token, body: { role: "admin" } })).status).toBe(404);
    const handed = await api(s, "PATCH", `/api/conversations/${g.id}/members/${bob.email}`, { token: ada.token, body: { role: "owner" } });
    expect(handed.status).toBe(200);
    expect(handed.body.roles).toEqual({ [ada.email]: "admin", [bob.email]: "owner", [cy.email]: "member" });
    expect((await api(s, "PATCH", `/api/conversations/${g.id}/members/${cy.email}`, { token: ada.token, body: { role: "admin" } })).status).toBe(403);
  });

  test("leave: an owner hands over to the longest-standing admin, else member; the last one out closes the group", async () => {
    const g = (await createGroup(ada, [bob, cy])).body;
    await api(s, "PATCH", `/api/conversations/${g.id}/members/${cy.email}`, { token: ada.token, body: { role: "admin" } });
    const left = await api(s, "POST", `/api/conversations/${g.id}/leave`, { token: ada.token });
    expect(left.status).toBe(200);
    expect(left.body.roles).toEqual({ [bob.email]: "member", [cy.email]: "owner" });
    expect((await api(s, "GET", `/api/conversations/${g.id}/messages`, { token: ada.token })).status).toBe(404);
    expect((await api(s, "POST", `/api/conversations/${g.id}/leave`, { token: ada.token })).status).toBe(404);
    expect((await api(s, "POST", `/api/conversations/${g.id}/leave`, { token: cy.token })).body.roles).toEqual({ [bob.email]: "owner" });
    const last = await api(s, "POST", `/api/conversations/${g.id}/leave`, { token: bob.token });
    expect(last.status).toBe(200);
    expect(last.body.participants).toEqual([]);
    expect((await listOf(bob)).some((c) => c.id === g.id)).toBe(false);
    expect((await sendTo(bob, g.id, "anyone?")).status).toBe(404);
  });
});
