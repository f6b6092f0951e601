/**
 * Seqs unique and increasing, unread counts exact, under concurrent sends and
 * reads: from one server over REST and over sockets, and from two servers on
 * one database. The unread count must equal the messages numbered after the
 * last read: (messages) - (the highest last_read_seq any read reported), since
 * last_seq only grows and each read resets the count atomically.
 * On FerretDB this needs our build's atomic update patch (tools/ferretdb).
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { api, login, type TestUser } from "../helpers/api.ts";
import { closeAllClients, connectAs } from "../helpers/clients.ts";
import { startTestServer, uniqueDbName, type TestServer } from "../helpers/server.ts";

const env = { RATE_SEND_PER_10S: "1000000", MESSAGES_PAGE_MAX: "1000" };
let s: TestServer;
let s2: TestServer;
beforeAll(async () => {
  const DATABASE_NAME = uniqueDbName("exact");
  s = await startTestServer("exact", { ...env, DATABASE_NAME });
  s2 = await startTestServer("exact", { ...env, DATABASE_NAME });
});
afterEach(closeAllClients);
afterAll(async () => {
  await s2.stop();
  await s.stopAndDrop();
});

let n = 0;
const pair = async () => {
  n++;
  return Promise.all([login(s, `ada${n}@exact.test`, "Ada"), login(s, `bob${n}@exact.test`, "Bob")]);
};

async function checkExact(server: TestServer, bob: TestUser, conversationId: string, sent: number, lastReadSeqs: number[]) {
  const history = await api(server, "GET", `/api/conversations/${conversationId}/messages?limit=1000`, { token: bob.token });
  const seqs: number[] = history.body.map((m: { seq: number }) => m.seq);
  expect(seqs.length).toBe(sent);
  expect(new Set(seqs).size).toBe(sent);
  expect(seqs).toEqual(Array.from({ length: sent }, (_, i) => i + 1));
  const list = await api(server, "GET", "/api/conversations", { token: bob.token });
  const unread = list.body.find((c: { id: string }) => c.id === conversationId).unread_count[bob.email];
  expect(unread).toBe(sent - Math.max(0, ...lastReadSeqs));
}

test("300 concurrent REST sends with a mark-read every 5th: unique seqs, exact unread", async () => {
  const [ada, bob] = await pair();
  const first = await api(s, "POST", "/api/messages/send", { token: ada.token, body: { to_email: bob.email, message: "0" } });
  const conversationId: string = first.body.message.conversation_id;
  const reads: number[] = [];
  await Promise.all(
    Array.from({ length: 299 }, async (_, i) => {
      const r = await api(s, "POST", "/api/messages/send", { token: ada.token, body: { to_email: bob.email, message: `${i + 1}` } });
      expect(r.status).toBe(201);
      if (i % 5 === 0) {
        const m = await api(s, "POST", `/api/conversations/${conversationId}/mark-read`, { token: bob.token });
        expect(m.status).toBe(200);
        reads.push(m.body.last_read_seq);
      }
    }),
  );
  await checkExact(s, bob, conversationId, 300, reads);
}, 60_000);

test("10 sockets × 50 sends while the recipient marks read at random moments", async () => {
  const [ada, bob] = await pair();
  const first = await api(s, "POST", "/api/messages/send", { token: ada.token, body: { to_email: bob.email, message: "0" } });
  const conversationId: string = first.body.message.conversation_id;
  const senders = await Promise.all(Array.from({ length: 10 }, () => connectAs(s, ada.token, "websocket")));
  const reader = await connectAs(s, bob.token, "websocket");
  const reads: number[] = [];
  let sending = true;
  const reading = (async () => {
    while (sending) {
      const r = (await reader.timeout(10_000).emitWithAck("mark_as_read", { conversation_id: conversationId })) as { ok: boolean; last_read_seq: number };
      expect(r.ok).toBe(true);
      reads.push(r.last_read_seq);
      await Bun.sleep(Math.random() * 5); // random moments between reads, not a wait for an event
    }
  })();
  await Promise.all(
    senders.map((sock, k) =>
      Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          (sock.timeout(20_000).emitWithAck("send_message", { to_email: bob.email, message: `${k}.${i}` }) as Promise<{ ok: boolean }>).then((a) =>
            expect(a.ok).toBe(true),
          ),
        ),
      ),
    ),
  );
  sending = false;
  await reading;
  expect(reads.length).toBeGreaterThan(1);
  await checkExact(s, bob, conversationId, 501, reads);
}, 60_000);

test("two servers on one database: no lost increment, no duplicate seq", async () => {
  const [ada, bob] = await pair();
  const reads: number[] = [];
  let conversationId = "";
  await Promise.all(
    Array.from({ length: 200 }, async (_, i) => {
      const server = i % 2 ? s2 : s;
      const r = await api(server, "POST", "/api/messages/send", { token: ada.token, body: { to_email: bob.email, message: `${i}` } });
      expect(r.status).toBe(201);
      conversationId = r.body.message.conversation_id;
      if (i % 7 === 3) {
        const m = await api(i % 3 ? s : s2, "POST", `/api/conversations/${conversationId}/mark-read`, { token: bob.token });
        expect(m.status).toBe(200);
        reads.push(m.body.last_read_seq);
      }
    }),
  );
  await checkExact(s2, bob, conversationId, 200, reads);
}, 60_000);

test("concurrent reads of one user (up to a seq, and everything) with sends between: pointer and unread agree", async () => {
  const [ada, bob] = await pair();
  const first = await api(s, "POST", "/api/messages/send", { token: ada.token, body: { to_email: bob.email, message: "0" } });
  const conversationId: string = first.body.message.conversation_id;
  for (let round = 0; round < 8; round++) {
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        if (i % 6 === 0) {
          expect((await api(s, "POST", "/api/messages/send", { token: ada.token, body: { to_email: bob.email, message: `${round}.${i}` } })).status).toBe(201);
        } else {
          const body = i % 2 === 1 ? { up_to_seq: 1 + round * 10 + (i % 10) } : undefined;
          expect((await api(s, "POST", `/api/conversations/${conversationId}/mark-read`, { token: bob.token, body })).status).toBe(200);
        }
      }),
    );
    // Whatever the interleaving, the stored count is the other participant's messages after the stored pointer.
    const state = await api(s, "GET", `/api/conversations/${conversationId}/read-state`, { token: bob.token });
    const pointer: number = state.body.find((r: { email: string }) => r.email === bob.email).last_read_seq;
    const list = await api(s, "GET", "/api/conversations", { token: bob.token });
    const conversation = list.body.find((c: { id: string }) => c.id === conversationId);
    const sent = 1 + (round + 1) * 10;
    expect(conversation.unread_count[bob.email]).toBe(sent - pointer);
  }
});
