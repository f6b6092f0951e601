/**
 * The conversation-list cache (src/db/conversation-list-cache.ts) never answers what the database no longer says:
 * - after every kind of write, through the REST API, each user's list equals the list read straight from the database
 *   (a seeded random sequence of sends, groups, membership changes, renames, reads, edits and deletes);
 * - the same under concurrency, checked once the writes are done;
 * - a list read overlapping a write is answered but not kept;
 * - the bound on held conversations;
 * - a second server process on the same database without REDIS_URL turns it off on both, and so does a cluster node.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { withListCache } from "../../src/db/conversation-list-cache.ts";
import { createConversationsRepo } from "../../src/db/conversations.repo.ts";
import type { ConversationsRepo } from "../../src/domain/ports.ts";
import { conversationView } from "../../src/domain/views.ts";
import { startRedis } from "../cluster/harness.ts";
import { api, login, type TestUser } from "../helpers/api.ts";
import { startTestServer, uniqueDbName, type TestServer } from "../helpers/server.ts";

/** A small deterministic PRNG (mulberry32): a failing sequence can be replayed. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("one server", () => {
  let s: TestServer;
  let users: TestUser[];
  let truthRepo: ConversationsRepo;
  beforeAll(async () => {
    s = await startTestServer("listcache", { RATE_SEND_PER_10S: "1000000", RATE_REST_WRITE_PER_MIN: "1000000", RATE_REST_READ_PER_MIN: "1000000" });
    users = await Promise.all(["ada", "bob", "cy", "dee"].map((n) => login(s, `${n}@listcache.test`, n)));
    // Straight from the database, no cache: what every answer must equal.
    truthRepo = createConversationsRepo(s.db.collections.conversations, s.db.collections.members);
  });
  afterAll(() => s.stopAndDrop());

  const listed = async (u: TestUser) => {
    const r = await api(s, "GET", "/api/conversations?limit=500", { token: u.token });
    expect(r.status).toBe(200);
    return r.body;
  };
  const truth = async (u: TestUser) => JSON.parse(JSON.stringify((await truthRepo.listForUser(u.email)).map(conversationView)));
  const expectAllTrue = async (step: string) => {
    for (const u of users) expect({ step, user: u.email, list: await listed(u) }).toEqual({ step, user: u.email, list: await truth(u) });
  };

  /** Kinds of operation that were carried out (2xx) at least once: the sequence must cover every kind of write. */
  const done = new Set<string>();
  const call = async (kind: string, u: TestUser, method: string, path: string, body?: unknown) => {
    const r = await api(s, method, path, { token: u.token, body });
    if (r.status < 300) done.add(kind);
  };
  /** One random operation through the REST API; returns its name (for the failure message). */
  async function randomOp(rnd: () => number): Promise<string> {
    const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)]!;
    const u = pick(users);
    const mine = (await truthRepo.listForUser(u.email)) as Awaited<ReturnType<ConversationsRepo["listForUser"]>>;
    const groups = mine.filter((c) => c.conversation_type === "group");
    const others = users.filter((x) => x !== u);
    const r = rnd();
    if (r < 0.3 || mine.length === 0) {
      const to = pick(others);
      await call("direct", u, "POST", "/api/messages/send", { to_email: to.email, message: `hi ${rnd()}` });
      return `direct ${u.email}→${to.email}`;
    }
    if (r < 0.4) {
      const members = others.filter(() => rnd() < 0.6).map((x) => x.email);
      await call("group", u, "POST", "/api/conversations", { conversation_type: "group", title: `g${rnd()}`, members: members.length ? members : [others[0]!.email] });
      return `create group by ${u.email}`;
    }
    const c = pick(mine);
    if (r < 0.6) {
      await call("send", u, "POST", "/api/messages/send", { conversation_id: c.id, message: `to ${c.id} ${rnd()}` });
      return `send in ${c.id}`;
    }
    if (r < 0.72) {
      const body = rnd() < 0.5 && c.last_seq > 1 ? { up_to_seq: 1 + Math.floor(rnd() * c.last_seq) } : undefined;
      await call(body ? "read up to" : "read", u, "POST", `/api/conversations/${c.id}/mark-read`, body);
      return `mark-read ${u.email} ${c.id}`;
    }
    if (r < 0.84) {
      const page = await api(s, "GET", `/api/conversations/${c.id}/messages?limit=5`, { token: u.token });
      const own = (page.body as any[]).filter((m) => m.sender_email === u.email && !m.deleted).pop();
      if (!own) return "no own message to edit or delete";
      if (rnd() < 0.5) await call("edit", u, "PATCH", `/api/messages/${own.id}`, { message: `edited ${rnd()}` });
      else await call("delete", u, "DELETE", `/api/messages/${own.id}`);
      return `edit or delete in ${c.id}`;
    }
    const g = groups.length ? pick(groups) : null;
    if (!g) return "no group";
    const outside = users.filter((x) => !g.participants.includes(x.email));
    if (r < 0.88) {
      await call("rename", u, "PATCH", `/api/conversations/${g.id}`, { title: `t${rnd()}` });
      return `rename ${g.id}`;
    }
    if (r < 0.93 && outside.length > 0) {
      await call("add member", u, "POST", `/api/conversations/${g.id}/members`, { emails: [pick(outside).email] });
      return `add member to ${g.id}`;
    }
    const member = pick(g.participants.filter((e) => e !== u.email));
    if (r < 0.97 && member) {
      await call("remove member", u, "DELETE", `/api/conversations/${g.id}/members/${encodeURIComponent(member)}`);
      return `remove ${member} from ${g.id}`;
    }
    await call("leave", u, "POST", `/api/conversations/${g.id}/leave`);
    return `${u.email} leaves ${g.id}`;
  }

  test("after each write, every user's list is the database's (120 random operations)", async () => {
    const rnd = prng(20261207);
    await expectAllTrue("start");
    for (let i = 0; i < 120; i++) await expectAllTrue(`${i}: ${await randomOp(rnd)}`);
    // The lists above came from the cache most of the time: otherwise this test would prove nothing about it.
    expect(s.listCacheStats()!.hits).toBeGreaterThan(100);
    expect([...done].sort()).toEqual(["add member", "delete", "direct", "edit", "group", "leave", "read", "read up to", "remove member", "rename", "send"]);
  }, 60_000);

  test("concurrent writes and lists: once they are done, every list is the database's", async () => {
    const rnd = prng(7);
    for (let round = 0; round < 4; round++) {
      await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          if (i % 3 === 0) await listed(users[i % users.length]!);
          else await randomOp(rnd);
        }),
      );
      await expectAllTrue(`round ${round}`);
    }
  }, 60_000);
});

describe("the cache itself, on the real database", () => {
  let s: TestServer;
  let ada: TestUser;
  let bob: TestUser;
  beforeAll(async () => {
    s = await startTestServer("listcache2", { LIST_CACHE_ITEMS: "0" });
    [ada, bob] = await Promise.all([login(s, "ada@lc2.test"), login(s, "bob@lc2.test")]);
  });
  afterAll(() => s.stopAndDrop());

  /** The real repository, with a gate after its conversation reads and a record of the ids they asked for. */
  function gatedRepo() {
    const plain = createConversationsRepo(s.db.collections.conversations, s.db.collections.members);
    const asked: string[][] = [];
    let gate: Promise<void> | null = null;
    let release = () => {};
    const repo: ConversationsRepo = {
      ...plain,
      async findManyById(ids) {
        asked.push([...ids]);
        const found = await plain.findManyById(ids);
        // The database was read; the write lands before the answer goes on.
        if (gate) await gate;
        return found;
      },
    };
    return {
      repo,
      asked,
      hold: () => (gate = new Promise<void>((r) => (release = r))),
      release: () => {
        gate = null;
        release();
      },
    };
  }
  const record = (repo: ConversationsRepo, id: string, preview: string) =>
    repo.recordMessages(id, { count: 1, unreadIncrements: [0, 1], preview, sender: ada.email, at: new Date() });

  test("a list read that overlaps a write is answered but not kept, nor the conversation it read", async () => {
    const g = gatedRepo();
    const repo = withListCache(g.repo, 1000);
    const { conversation } = await repo.findOrCreateDirect([ada.email, bob.email].sort() as [string, string], new Date());
    expect((await repo.listForUser(ada.email))[0]!.last_message).toBeNull();
    expect((await repo.listForUser(ada.email))[0]!.last_message).toBeNull();
    expect(repo.listCacheStats()).toMatchObject({ hits: 1, misses: 1, users: 1, conversations: 1 });

    await record(repo, conversation.id, "first");
    expect(repo.listCacheStats()).toMatchObject({ users: 0, conversations: 0 });
    g.hold();
    const overlapping = repo.listForUser(bob.email);
    await Bun.sleep(20);
    await record(repo, conversation.id, "second");
    g.release();
    expect((await overlapping)[0]!.last_message).toBe("first");
    expect(repo.listCacheStats()).toMatchObject({ users: 0, conversations: 0 });
    // Neither bob's list nor the conversation was kept: ada reads it again and sees the write.
    g.asked.length = 0;
    expect((await repo.listForUser(ada.email))[0]!.last_message).toBe("second");
    expect(g.asked).toEqual([[conversation.id]]);
    expect(repo.listCacheStats()).toMatchObject({ hits: 1, misses: 3 });
  });

  test("after a write, a user's list reads again only the conversation that changed", async () => {
    const g = gatedRepo();
    const repo = withListCache(g.repo, 1000);
    const peers = await Promise.all(["p1", "p2", "p3"].map((n) => login(s, `${n}@lc2.test`)));
    const ids: string[] = [];
    for (const p of peers) ids.push((await repo.findOrCreateDirect([ada.email, p.email].sort() as [string, string], new Date())).conversation.id);
    const first = await repo.listForUser(ada.email);
    expect(first.length).toBeGreaterThanOrEqual(3);
    g.asked.length = 0;
    await record(repo, ids[1]!, "news");
    const list = await repo.listForUser(ada.email);
    expect(g.asked).toEqual([[ids[1]!]]);
    expect(list[0]).toMatchObject({ id: ids[1], last_message: "news" });
    // A peer of that conversation lists for the first time: the conversation is held already.
    g.asked.length = 0;
    expect((await repo.listForUser(peers[1]!.email))[0]).toMatchObject({ id: ids[1], last_message: "news" });
    expect(g.asked).toEqual([]);
    // Exactly what the database says.
    const truth = await createConversationsRepo(s.db.collections.conversations, s.db.collections.members).listForUser(ada.email);
    expect(await repo.listForUser(ada.email)).toEqual(truth);
  });

  test("holds at most maxItems conversations, least recently listed users first; disable() reads through", async () => {
    const plain = createConversationsRepo(s.db.collections.conversations, s.db.collections.members);
    const repo = withListCache(plain, 3);
    const [zed, ...others] = await Promise.all(["zed", "z1", "z2", "z3", "z4"].map((n) => login(s, `${n}@lc2.test`)));
    for (const o of others) await repo.findOrCreateDirect([zed!.email, o.email].sort() as [string, string], new Date());
    // zed: 4 conversations, more than the bound: answered, never held.
    expect(await repo.listForUser(zed!.email)).toHaveLength(4);
    expect(repo.listCacheStats()).toMatchObject({ items: 0, users: 0 });
    expect(repo.listCacheStats().conversations).toBeLessThanOrEqual(3);
    for (const o of others.slice(0, 3)) expect(await repo.listForUser(o.email)).toHaveLength(1);
    expect(repo.listCacheStats()).toMatchObject({ items: 3, users: 3 });
    await repo.listForUser(others[3]!.email);
    // z1 was the least recently listed: dropped for z4.
    expect(repo.listCacheStats()).toMatchObject({ items: 3, users: 3, misses: 5 });
    await repo.listForUser(others[0]!.email);
    expect(repo.listCacheStats()).toMatchObject({ misses: 6, hits: 0 });
    expect(repo.listCacheStats().conversations).toBeLessThanOrEqual(3);
    repo.disable();
    expect(repo.listCacheStats()).toMatchObject({ enabled: false, items: 0, users: 0, conversations: 0 });
    await repo.listForUser(others[1]!.email);
    await repo.listForUser(others[1]!.email);
    expect(repo.listCacheStats()).toMatchObject({ items: 0, users: 0, conversations: 0 });
  });
});

test("two server processes on one database without REDIS_URL: neither serves a list the other changed", async () => {
  const DATABASE_NAME = uniqueDbName("listcache3");
  const s1 = await startTestServer("listcache3", { DATABASE_NAME });
  const s2 = await startTestServer("listcache3", { DATABASE_NAME });
  try {
    const [ada, bob] = await Promise.all([login(s1, "ada@lc3.test"), login(s1, "bob@lc3.test")]);
    // s2 started second and saw s1 at once; s1 sees s2 within its heartbeat interval (250 ms).
    expect(s2.listCacheStats()!.enabled).toBe(false);
    const until = Date.now() + 3_000;
    while (s1.listCacheStats()!.enabled && Date.now() < until) await Bun.sleep(50);
    expect(s1.listCacheStats()!.enabled).toBe(false);
    for (let i = 0; i < 3; i++) {
      // Each server lists first (a cache would keep it), then the other one writes.
      for (const [reader, writer] of [[s1, s2], [s2, s1]] as const) {
        await api(reader, "GET", "/api/conversations", { token: bob.token });
        const sent = await api(writer, "POST", "/api/messages/send", { token: ada.token, body: { to_email: bob.email, message: `m${i}` } });
        expect(sent.status).toBe(201);
        const list = await api(reader, "GET", "/api/conversations", { token: bob.token });
        expect(list.body[0].last_message).toBe(`m${i}`);
      }
    }
  } finally {
    await s2.stop();
    await s1.stopAndDrop();
  }
}, 30_000);

test("a cluster-mode process on the same database turns the cache of a process without REDIS_URL off too", async () => {
  const redis = await startRedis();
  const DATABASE_NAME = uniqueDbName("listcache4");
  const single = await startTestServer("listcache4", { DATABASE_NAME });
  const node = await startTestServer("listcache4", { DATABASE_NAME, REDIS_URL: redis.url, REDIS_KEY_PREFIX: `lc${Date.now().toString(36)}:` });
  try {
    // The cluster node has no cache; the single process sees its heartbeat within 250 ms.
    expect(node.listCacheStats()).toBeNull();
    const until = Date.now() + 3_000;
    while (single.listCacheStats()!.enabled && Date.now() < until) await Bun.sleep(50);
    expect(single.listCacheStats()!.enabled).toBe(false);
  } finally {
    await node.stop();
    await single.stopAndDrop();
    await redis.stop();
  }
}, 30_000);
