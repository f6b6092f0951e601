/**
 * Reads leave no cursor open. On the embedded FerretDB an open cursor holds one of its 100 SQLite connections
 * until the client's next getMore; a burst of reads that each left one open (a first batch ending exactly at the
 * last document, or a result over the default 101) took them all while updates waited for one with their
 * collection lock held, and the database stopped answering (found with 1,000 group members connecting at once:
 * every connect lists the user's conversations and writes their presence).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createConversationsRepo } from "../../src/db/conversations.repo.ts";
import { membersOf } from "../../src/db/members.ts";
import { createUsersRepo } from "../../src/db/users.repo.ts";
import { api, login, type TestUser } from "../helpers/api.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let s: TestServer;
let users: TestUser[];
let group: string;
const N = 150;

beforeAll(async () => {
  s = await startTestServer("cursors", { GROUP_MAX_MEMBERS: String(N + 10), RATE_LOGIN_PER_IP_PER_MIN: "100000", RATE_SIGNUP_PER_IP_PER_HOUR: "100000" });
  users = [];
  for (let i = 0; i < N; i++) users.push(await login(s, `m${i}@cursors.test`, `m${i}`));
  const r = await api(s, "POST", "/api/conversations", {
    token: users[0]!.token,
    body: { conversation_type: "group", title: "big", members: users.slice(1).map((u) => u.email) },
  });
  expect(r.status).toBe(201);
  group = r.body.id;
}, 60_000);

afterAll(async () => {
  await s.stopAndDrop();
});

test("a burst of conversation lists and member reads beside presence writes completes (no cursor pins a connection)", async () => {
  const conversations = createConversationsRepo(s.db.collections.conversations, s.db.collections.members);
  const usersRepo = createUsersRepo(s.db.collections.users, s.db.collections.userTerms);
  const work: Promise<unknown>[] = [];
  for (let round = 0; round < 3; round++) {
    for (const u of users) {
      work.push(conversations.listForUser(u.email));
      work.push(usersRepo.setPresence(u.email, round % 2 === 0, new Date()));
    }
    for (let i = 0; i < 40; i++) work.push(membersOf(s.db.collections.members, group));
  }
  const results = await Promise.all(work);
  const lists = results.filter((r): r is { id: string }[] => Array.isArray(r) && r.length === 1 && "participants" in (r[0] as object));
  expect(lists.length).toBe(3 * N);
  expect(lists.every((l) => l[0]!.id === group)).toBe(true);
  const memberReads = results.filter((r) => Array.isArray(r) && r.length === N && "last_read_seq" in (r[0] as object));
  expect(memberReads.length).toBe(3 * 40);
}, 60_000);

test("every read drained at once gets its whole answer in the first batch (the server closes the cursor)", async () => {
  const db = s.db.db;
  const members = s.db.collections.members.collectionName;
  // What the repositories send: a batch size above any answer they drain, so the first batch ends the cursor.
  const { ONE_BATCH } = await import("../../src/db/reads.ts");
  const r = (await db.command({ find: members, filter: { conversation_id: group }, ...ONE_BATCH })) as { cursor: { id: unknown; firstBatch: unknown[] } };
  expect(r.cursor.firstBatch.length).toBe(N);
  expect(String(r.cursor.id)).toBe("0");
});
