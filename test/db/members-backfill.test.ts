/**
 * A database from a version without membership documents: start creates them
 * once from the conversations, so every user still finds their conversations.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { backfillMembers } from "../../src/db/members.ts";
import { api, login } from "../helpers/api.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let s: TestServer;
beforeAll(async () => {
  // The test rewrites the database behind the server's back, mid-flight (a real backfill runs before the server
  // serves): the per-process list cache, which relies on being the only writer, is off.
  s = await startTestServer("backfill", { LIST_CACHE_ITEMS: "0" });
});
afterAll(() => s.stopAndDrop());

test("membership documents are rebuilt from participants, once", async () => {
  const [ada, bob, eve] = await Promise.all([login(s, "ada@bf.test"), login(s, "bob@bf.test"), login(s, "eve@bf.test")]);
  await api(s, "POST", "/api/messages/send", { token: ada.token, body: { to_email: bob.email, message: "x" } });
  await api(s, "POST", "/api/messages/send", { token: eve.token, body: { to_email: ada.email, message: "y" } });
  const { members, meta } = s.db.collections;
  // As an earlier version left it: no membership documents, no migration marker.
  await members.deleteMany({});
  await meta.deleteMany({});
  expect((await api(s, "GET", "/api/conversations", { token: ada.token })).body).toEqual([]);

  expect(await backfillMembers(s.db.collections)).toBe(4);
  expect(await backfillMembers(s.db.collections)).toBe(0);
  const list = await api(s, "GET", "/api/conversations", { token: ada.token });
  expect(list.body.map((c: { last_message: string }) => c.last_message).sort()).toEqual(["x", "y"]);
  expect((await api(s, "GET", "/api/conversations", { token: bob.token })).body).toHaveLength(1);
});
