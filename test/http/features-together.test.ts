/**
 * Where the features meet: message search follows the real edit and delete routes and a group's
 * membership (a removed member finds nothing of the group at once), and webhooks treat a group's
 * members one by one (message.offline to each member with no socket, never to the sender or to a
 * connected member).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { api, login, type TestUser } from "../helpers/api.ts";
import { closeAllClients, connectAs } from "../helpers/clients.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { waitUntil } from "../helpers/wait.ts";

const SECRET = "webhook-secret-0123456789";

interface Delivery {
  id: string;
  type: string;
  recipient: string | null;
  message: { id: string; message: string };
}

let s: TestServer;
let receiver: ReturnType<typeof Bun.serve>;
const accepted: Delivery[] = [];
let ada: TestUser, bob: TestUser, cy: TestUser, dee: TestUser;
let group: string;

const search = (u: TestUser, q: string) => api(s, "GET", `/api/messages/search?${new URLSearchParams({ q })}`, { token: u.token });
const found = async (u: TestUser, q: string) => {
  const r = await search(u, q);
  expect(r.status).toBe(200);
  return (r.body.messages as { id: string; message: string }[]).map((m) => m.message);
};
const sendToGroup = async (from: TestUser, message: string) => {
  const r = await api(s, "POST", "/api/messages/send", { token: from.token, body: { conversation_id: group, message } });
  expect(r.status).toBe(201);
  return r.body.message as { id: string; message: string };
};

beforeAll(async () => {
  receiver = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      accepted.push((await req.json()) as Delivery);
      return new Response(null, { status: 204 });
    },
  });
  s = await startTestServer("together", {
    WEBHOOK_URL: `http://127.0.0.1:${receiver.port}/hook`,
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_POLL_MS: "20",
    WEBHOOK_BACKOFF_MS: "20",
  });
  [ada, bob, cy, dee] = (await Promise.all(["ada", "bob", "cy", "dee"].map((n) => login(s, `${n}@together.test`, n)))) as [TestUser, TestUser, TestUser, TestUser];
  const r = await api(s, "POST", "/api/conversations", {
    token: ada.token,
    body: { conversation_type: "group", title: "crew", members: [bob.email, cy.email, dee.email] },
  });
  expect(r.status).toBe(201);
  group = r.body.id;
});

afterAll(async () => {
  closeAllClients();
  await s.stopAndDrop();
  receiver.stop(true);
});

describe("search follows edits, deletes and membership", () => {
  test("PATCH /api/messages/{id}: found by the new text only", async () => {
    const m = await sendToGroup(ada, "first draft pelican");
    expect(await found(bob, "pelican")).toEqual(["first draft pelican"]);
    const r = await api(s, "PATCH", `/api/messages/${m.id}`, { token: ada.token, body: { message: "final version heron" } });
    expect(r.status).toBe(200);
    expect(await found(bob, "pelican")).toEqual([]);
    expect(await found(bob, "draft")).toEqual([]);
    expect(await found(bob, "heron")).toEqual(["final version heron"]);
  });

  test("DELETE /api/messages/{id}: not found any more, and its terms are gone", async () => {
    const m = await sendToGroup(bob, "temporary flamingo");
    expect(await found(ada, "flamingo")).toEqual(["temporary flamingo"]);
    expect((await api(s, "DELETE", `/api/messages/${m.id}`, { token: bob.token })).status).toBe(200);
    expect(await found(ada, "flamingo")).toEqual([]);
    expect(await s.db.collections.messageTerms.countDocuments({ s: { $regex: `${m.id}$` } })).toBe(0);
  });

  test("a removed member finds nothing of the group from the moment of removal, even with a stale member document", async () => {
    await sendToGroup(ada, "roadmap albatross");
    expect(await found(dee, "albatross")).toEqual(["roadmap albatross"]);
    const r = await api(s, "DELETE", `/api/conversations/${group}/members/${encodeURIComponent(dee.email)}`, { token: ada.token });
    expect(r.status).toBe(200);
    expect(await found(dee, "albatross")).toEqual([]);
    // A member document that outlived the removal (its delete failed) opens nothing: hits are checked against the group.
    const { memberId } = await import("../../src/db/members.ts");
    await s.db.collections.members.insertOne({ _id: memberId(group, dee.email), user: dee.email, conversation_id: group, joined_at: new Date() } as never);
    expect(await found(dee, "albatross")).toEqual([]);
    expect(await found(bob, "albatross")).toEqual(["roadmap albatross"]);
  });
});

test("webhooks in a group: message.offline to each member without a socket, not to the sender or a connected member", async () => {
  await connectAs(s, bob.token, "websocket");
  await waitUntil(() => s.services.presence.isConnectedAnywhere(bob.email), 5000, "bob online");
  accepted.length = 0;
  const m = await sendToGroup(ada, "webhook check osprey");
  await waitUntil(() => accepted.filter((d) => d.message.id === m.id).length >= 1, 5000, "a delivery for the message");
  // Cy is the only offline member left (dee was removed above; bob is connected; ada sent it).
  await waitUntil(async () => (await s.db.collections.messages.findOne({ message: "webhook check osprey" }))?.webhooks === undefined, 5000, "outbox drained");
  const mine = accepted.filter((d) => d.message.id === m.id);
  expect(mine.map((d) => [d.type, d.recipient])).toEqual([["message.offline", cy.email]]);
});
