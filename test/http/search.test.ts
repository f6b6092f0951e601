/**
 * GET /api/messages/search: scoped to the caller's conversations (an outsider never finds
 * another conversation's message), word prefix and case-insensitive, literal input, bounded
 * length, newest first with cursor paging; the index follows edits and deletes
 * (searchIndex.edited / deleted) and is built for messages stored before it existed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { backfillMessageTerms } from "../../src/db/message-terms.ts";
import { termsOf } from "../../src/domain/message-terms.ts";
import { api, login, type TestUser } from "../helpers/api.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let s: TestServer;
let ada: TestUser, bob: TestUser, eve: TestUser, carl: TestUser;
let adaBob: string, eveBob: string;

const send = async (from: TestUser, to: TestUser, message: string) => {
  const r = await api(s, "POST", "/api/messages/send", { token: from.token, body: { to_email: to.email, message } });
  expect(r.status).toBe(201);
  return r.body.message as { id: string; conversation_id: string; message: string };
};
const search = (u: TestUser, params: Record<string, string>) => api(s, "GET", `/api/messages/search?${new URLSearchParams(params)}`, { token: u.token });
const texts = (r: { body: { messages: { message: string }[] } }) => r.body.messages.map((m) => m.message);

beforeAll(async () => {
  s = await startTestServer("msgsearch");
  const users = await Promise.all(["ada", "bob", "eve", "carl"].map((n) => login(s, `${n}@example.com`, n)));
  [ada, bob, eve, carl] = users as [TestUser, TestUser, TestUser, TestUser];
  adaBob = (await send(ada, bob, "Hello World")).conversation_id;
  await send(bob, ada, "Invoice #42 attached (see the PDF)");
  await send(ada, bob, "hello again");
  await send(bob, ada, "HELLO there, Ünïcode Straße");
  eveBob = (await send(eve, bob, "secret hello from eve")).conversation_id;
});
afterAll(async () => {
  await s.stopAndDrop();
});

describe("scoping", () => {
  test("only the caller's conversations: an outsider never finds another conversation's message", async () => {
    expect(texts(await search(ada, { q: "hello" }))).toEqual(["HELLO there, Ünïcode Straße", "hello again", "Hello World"]);
    expect(texts(await search(ada, { q: "secret" }))).toEqual([]);
    expect(texts(await search(carl, { q: "hello" }))).toEqual([]);
    expect(texts(await search(eve, { q: "invoice" }))).toEqual([]);
    // Bob is in both.
    expect(texts(await search(bob, { q: "hello" }))).toHaveLength(4);
  });

  test("conversation_id narrows to one conversation; one the caller is not in is 404, a malformed id 422", async () => {
    expect(texts(await search(bob, { q: "hello", conversation_id: eveBob }))).toEqual(["secret hello from eve"]);
    expect(texts(await search(bob, { q: "hello", conversation_id: adaBob }))).toHaveLength(3);
    const r = await search(ada, { q: "secret", conversation_id: eveBob });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe("CONVERSATION_NOT_FOUND");
    expect((await search(ada, { q: "x", conversation_id: "nope" })).status).toBe(422);
  });

  test("needs a token", async () => {
    expect((await api(s, "GET", "/api/messages/search?q=hello")).status).toBe(401);
  });
});

describe("matching", () => {
  test("case-insensitive word prefixes; every word of q must match; unicode", async () => {
    expect(texts(await search(ada, { q: "HeL" }))).toHaveLength(3);
    expect(texts(await search(ada, { q: "wor" }))).toEqual(["Hello World"]);
    expect(texts(await search(ada, { q: "hel wor" }))).toEqual(["Hello World"]);
    expect(texts(await search(ada, { q: "world hello" }))).toEqual(["Hello World"]);
    expect(texts(await search(ada, { q: "invoice 42" }))).toEqual(["Invoice #42 attached (see the PDF)"]);
    expect(texts(await search(ada, { q: "ÜNÏC" }))).toEqual(["HELLO there, Ünïcode Straße"]);
    expect(texts(await search(ada, { q: "straße" }))).toEqual(["HELLO there, Ünïcode Straße"]);
    // Not a substring search: "orld" starts no word.
    expect(texts(await search(ada, { q: "orld" }))).toEqual([]);
    // A short word matches whole words only.
    expect(texts(await search(ada, { q: "42" }))).toEqual(["Invoice #42 attached (see the PDF)"]);
    expect(texts(await search(ada, { q: "he" }))).toEqual([]);
  });

  test("input is literal: regex and operator-looking queries find nothing and never fail", async () => {
    for (const q of [".*", "^h", "(", "[a-z]+", "h.l", "\\", "$where", '{"$gt":""}', "$regex", "a|b", "%", "' OR 1=1 --", "\u0000"]) {
      const r = await search(ada, { q });
      expect(r.status).toBe(200);
      expect(r.body.messages).toEqual([]);
    }
    // Punctuation is not syntax: around a real word it is ignored, and the word still counts as itself.
    expect(texts(await search(ada, { q: "(hello)" }))).toHaveLength(3);
    expect(texts(await search(ada, { q: "hel.*" }))).toEqual(texts(await search(ada, { q: "hel" })));
  });

  test("bounded length and limit", async () => {
    expect((await search(ada, { q: "" })).status).toBe(422);
    expect((await search(ada, { q: "a".repeat(201) })).status).toBe(422);
    expect((await search(ada, { q: "a".repeat(200) })).status).toBe(200);
    expect((await search(ada, { q: "hello", limit: "0" })).status).toBe(422);
    expect((await search(ada, { q: "hello", limit: "1000" })).status).toBe(422);
  });
});

test("newest first with cursor paging: every match once, then next_cursor null; a bad cursor is 422", async () => {
  const sent = [];
  for (let i = 0; i < 7; i++) sent.push(await send(ada, bob, `pagination item ${i}`));
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const params: Record<string, string> = { q: "paginat", limit: "3" };
    if (cursor) params.cursor = cursor;
    const r = await search(ada, params);
    expect(r.status).toBe(200);
    seen.push(...texts(r));
    cursor = r.body.next_cursor;
    pages++;
  } while (cursor && pages < 10);
  expect(seen).toEqual(sent.map((m) => m.message).reverse());
  expect(pages).toBe(3);
  for (const bad of ["garbage", Buffer.from("1:2").toString("base64url"), "x".repeat(201)]) {
    expect((await search(ada, { q: "paginat", cursor: bad })).status).toBe(422);
  }
});

describe("searchIndex.edited / deleted (called by the edit and delete paths)", () => {
  test("an edited message is found by its new text, not its old", async () => {
    const m = await send(ada, bob, "original wording zebra");
    const stored = (await s.db.collections.messages.findOne({ message: "original wording zebra" }))!;
    await s.db.collections.messages.updateOne({ _id: stored._id }, { $set: { message: "revised phrasing giraffe", edited: true } });
    const { toMessage } = await import("../../src/db/messages.repo.ts");
    const old = toMessage(stored);
    await s.services.search.searchIndex.edited(old, { ...old, message: "revised phrasing giraffe" });
    expect(texts(await search(ada, { q: "zebra" }))).toEqual([]);
    expect(texts(await search(ada, { q: "origin" }))).toEqual([]);
    expect((await search(ada, { q: "giraffe" })).body.messages.map((x: { id: string }) => x.id)).toEqual([m.id]);
    // Terms both texts share stay (here none); the message's own terms are exactly the new text's.
    const left = await s.db.collections.messageTerms.countDocuments({ s: { $regex: `${m.id}$` } });
    expect(left).toBe(termsOf("revised phrasing giraffe").length);
  });

  test("a deleted message is not found, even while its document still exists", async () => {
    const m = await send(ada, bob, "ephemeral walrus");
    expect(texts(await search(ada, { q: "walrus" }))).toEqual(["ephemeral walrus"]);
    const { toMessage } = await import("../../src/db/messages.repo.ts");
    const stored = (await s.db.collections.messages.findOne({ message: "ephemeral walrus" }))!;
    await s.services.search.searchIndex.deleted(toMessage(stored));
    expect(texts(await search(ada, { q: "walrus" }))).toEqual([]);
    expect(await s.db.collections.messageTerms.countDocuments({ s: { $regex: `${m.id}$` } })).toBe(0);
  });
});

describe("term ids", () => {
  test("are time-ordered: a later message's terms sort after an earlier one's (appends to the _id index)", async () => {
    const { termDocsOf } = await import("../../src/db/message-terms.ts");
    const at = (ms: number, id: string) =>
      termDocsOf({ id, conversation_id: adaBob, sender_email: ada.email, sender_name: "Ada", message: "alpha beta", message_type: "text",
        timestamp: new Date(ms), edited: false, edited_at: null, reply_to: null, client_id: null, seq: 1, deleted: false, reactions: {} });
    const early = at(Date.UTC(2026, 0, 1), "aaaaaaaaaaaaaaaaaaaaaaaa");
    const late = at(Date.UTC(2026, 0, 1) + 1000, "000000000000000000000000");
    expect(early[0]!._id.getTimestamp().getTime()).toBe(Date.UTC(2026, 0, 1));
    for (const e of early) for (const l of late) expect(e._id.toHexString() < l._id.toHexString()).toBe(true);
    // Deterministic: indexing a message again collides instead of duplicating.
    expect(at(Date.UTC(2026, 0, 1), "aaaaaaaaaaaaaaaaaaaaaaaa").map((d) => d._id.toHexString())).toEqual(early.map((d) => d._id.toHexString()));
  });

  test("terms written with the earlier id format (a hash only) are removed by an edit and a delete", async () => {
    const { derivedId } = await import("../../src/db/ids.ts");
    const { toMessage } = await import("../../src/db/messages.repo.ts");
    const col = s.db.collections.messageTerms;
    for (const [text, edit] of [["vintage ocelot", "modern lynx"], ["vintage pangolin", null]] as const) {
      const m = await send(ada, bob, text);
      // As an earlier version wrote them: same documents, _id = hash(message, term).
      const mine = await col.find({ s: { $regex: `${m.id}$` } }).toArray();
      expect(mine.length).toBe(termsOf(text).length);
      await col.deleteMany({ _id: { $in: mine.map((d) => d._id) } });
      await col.insertMany(mine.map((d) => ({ ...d, _id: derivedId("message_term", m.id, d.k.split("\u0001")[1]!) })));
      const stored = toMessage((await s.db.collections.messages.findOne({ message: text }))!);
      if (edit) await s.services.search.searchIndex.edited(stored, { ...stored, message: edit });
      else await s.services.search.searchIndex.deleted(stored);
      const left = await col.find({ s: { $regex: `${m.id}$` } }).toArray();
      expect(left.length).toBe(edit ? termsOf(edit).length : 0);
    }
  });
});

test("messages stored before the index existed are indexed once at start (backfill)", async () => {
  const stored = (await s.db.collections.messages.findOne({ message: "Hello World" }))!;
  await s.db.collections.messages.insertOne({ ...stored, _id: new (stored._id.constructor as any)(), seq: 999, message: "legacy platypus" });
  expect(texts(await search(ada, { q: "platypus" }))).toEqual([]);
  await s.db.collections.meta.deleteOne({ _id: "message_terms_v1" });
  expect(await backfillMessageTerms(s.db.collections)).toBeGreaterThan(0);
  expect(texts(await search(ada, { q: "platypus" }))).toEqual(["legacy platypus"]);
  expect(await backfillMessageTerms(s.db.collections)).toBe(0);
});

test("a one-conversation search is an index range read on scalar_message_term (FerretDB pushdown)", async () => {
  if (process.env.TEST_DB_KIND !== "ferretdb") return;
  const res = (await s.db.db.command({
    explain: { find: "message_terms", filter: { k: `${adaBob}\u0001hello`, s: { $lt: "9999999999999" } }, sort: { s: -1 }, limit: 21 },
  })) as { queryPlanner: { Plan: string[] }; filterPushdown: boolean; sortPushdown: boolean };
  const text = res.queryPlanner.Plan.join("\n");
  expect(text).toContain("scalar_message_term");
  expect(text).not.toMatch(/\bSCAN\b/);
  expect(res.filterPushdown).toBe(true);
  expect(res.sortPushdown).toBe(true);
  const many = (await s.db.db.command({
    explain: { find: "message_terms", filter: { k: { $in: [`${adaBob}\u0001hello`, `${eveBob}\u0001hello`] } }, sort: { s: -1 }, limit: 21 },
  })) as { queryPlanner: { Plan: string[] }; filterPushdown: boolean };
  expect(many.queryPlanner.Plan.join("\n")).toContain("scalar_message_term");
  expect(many.queryPlanner.Plan.join("\n")).not.toMatch(/\bSCAN\b/);
  expect(many.filterPushdown).toBe(true);
});

test("a query word between index levels reads the shorter prefix and keeps only real matches, across pages", async () => {
  // Users of their own: a user who searched in the last 5 s may not see a conversation started since (membership cache).
  const dan = await login(s, "dan@example.com", "dan");
  const fay = await login(s, "fay@example.com", "fay");
  const [eve, carl] = [dan, fay];
  const wanted = [];
  for (let i = 0; i < 12; i++) {
    await send(eve, carl, `inventory count ${i}`);
    if (i % 5 === 0) wanted.push((await send(eve, carl, `invoked handler ${i}`)).message);
  }
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 20; pages++) {
    const params: Record<string, string> = { q: "invok", limit: "1" };
    if (cursor) params.cursor = cursor;
    const r = await search(carl, params);
    seen.push(...texts(r));
    cursor = r.body.next_cursor;
    if (!cursor) break;
  }
  expect(seen).toEqual(wanted.reverse());
  // "invo" (4) is looked up by "inv" (3): both kinds start with it; "inve" keeps only the inventory ones.
  expect(texts(await search(carl, { q: "invo", limit: "50" }))).toHaveLength(3);
  expect(texts(await search(carl, { q: "inve", limit: "50" }))).toHaveLength(12);
});
