/**
 * Cursor pagination of history (before / after a seq) and of the conversation
 * list (opaque cursor), beside skip/limit; X-Total-Count without a count query.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { api, login, type TestUser } from "../helpers/api.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let s: TestServer;
let ada: TestUser;
let bob: TestUser;
let conversationId: string;
const N = 25;

beforeAll(async () => {
  s = await startTestServer("pagination", { RATE_SEND_PER_10S: "100000" });
  [ada, bob] = await Promise.all([login(s, "ada@page.test", "Ada"), login(s, "bob@page.test", "Bob")]);
  for (let i = 1; i <= N; i++) {
    const r = await api(s, "POST", "/api/messages/send", { token: i % 3 ? ada.token : bob.token, body: { to_email: i % 3 ? bob.email : ada.email, message: `m${i}` } });
    conversationId = r.body.message.conversation_id;
  }
});
afterAll(() => s.stopAndDrop());

const page = (q: string, token = bob.token) => api(s, "GET", `/api/conversations/${conversationId}/messages?${q}`, { token });
const texts = (body: { message: string }[]) => body.map((m) => m.message);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `m${from + i}`);

describe("history cursors", () => {
  test("the newest page, then older pages by `before`, cover the history exactly once, oldest first in each page", async () => {
    const seen: string[] = [];
    let r = await page("limit=10");
    expect(r.status).toBe(200);
    expect(r.headers.get("X-Total-Count")).toBe(String(N));
    while (true) {
      seen.unshift(...texts(r.body));
      if (r.headers.get("X-Has-More") !== "true") break;
      r = await page(`limit=10&before=${r.body[0].seq}`);
      expect(r.status).toBe(200);
    }
    expect(seen).toEqual(range(1, N));
  });

  test("`after` reads forward from a seq (catching up), with has-more until the newest", async () => {
    const first = await page("after=5&limit=7");
    expect(texts(first.body)).toEqual(range(6, 12));
    expect(first.headers.get("X-Has-More")).toBe("true");
    const last = await page(`after=20&limit=7`);
    expect(texts(last.body)).toEqual(range(21, 25));
    expect(last.headers.get("X-Has-More")).toBe("false");
    expect((await page(`after=${N}`)).body).toEqual([]);
  });

  test("skip/limit still works and agrees with the cursors", async () => {
    const bySkip = await page("skip=10&limit=5");
    expect(texts(bySkip.body)).toEqual(range(11, 15));
    expect(bySkip.headers.get("X-Has-More")).toBe("true");
    expect(texts((await page("before=16&limit=5")).body)).toEqual(range(11, 15));
  });

  test("bad cursors are refused with 422; an outsider gets 404", async () => {
    for (const q of ["before=-1", "after=abc", "before=3&after=1", "skip=2&before=5", "before=1.5"]) {
      const r = await page(q);
      expect(r.status).toBe(422);
      expect(r.body.error.code).toBe("VALIDATION_FAILED");
    }
    const eve = await login(s, "eve@page.test", "Eve");
    expect((await page("before=10", eve.token)).status).toBe(404);
  });

  test("X-Total-Count follows new messages without counting them", async () => {
    await api(s, "POST", "/api/messages/send", { token: ada.token, body: { to_email: bob.email, message: "one more" } });
    const r = await page("limit=1");
    expect(r.headers.get("X-Total-Count")).toBe(String(N + 1));
    expect(texts(r.body)).toEqual(["one more"]);
  });
});

describe("conversation list cursor", () => {
  test("pages of the list, most recent activity first, cover every conversation once", async () => {
    const carol = await login(s, "carol@page.test", "Carol");
    const peers = await Promise.all(Array.from({ length: 7 }, (_, i) => login(s, `peer${i}@page.test`, `Peer ${i}`)));
    for (const p of peers) await api(s, "POST", "/api/messages/send", { token: carol.token, body: { to_email: p.email, message: "hi" } });
    // Activity moves peer2 to the top.
    await api(s, "POST", "/api/messages/send", { token: peers[2]!.token, body: { to_email: carol.email, message: "back" } });

    const order: string[] = [];
    let r = await api(s, "GET", "/api/conversations?limit=3", { token: carol.token });
    while (true) {
      expect(r.status).toBe(200);
      expect(r.body.length).toBeLessThanOrEqual(3);
      order.push(...r.body.map((c: { participants: string[] }) => c.participants.find((e) => e !== carol.email)));
      const next = r.headers.get("X-Next-Cursor");
      if (!next) break;
      r = await api(s, "GET", `/api/conversations?limit=3&before=${next}`, { token: carol.token });
    }
    // Same order as one page of everything (messages sent within one millisecond tie on time and go by id).
    const whole = await api(s, "GET", "/api/conversations?limit=500", { token: carol.token });
    expect(order).toEqual(whole.body.map((c: { participants: string[] }) => c.participants.find((e) => e !== carol.email)));
    expect(order[0]).toBe(peers[2]!.email);
    expect(new Set(order)).toEqual(new Set(peers.map((p) => p.email)));
  });

  test("a forged cursor is a 422, an over-large limit too", async () => {
    expect((await api(s, "GET", "/api/conversations?before=bm9wZQ", { token: ada.token })).status).toBe(422);
    expect((await api(s, "GET", "/api/conversations?limit=100000", { token: ada.token })).status).toBe(422);
  });
});
