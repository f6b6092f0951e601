/**
 * Seeds a database of a given size with the exact documents the server
 * writes (same _ids, fields and indexes), by bulk inserts: users (with their
 * search terms), direct conversations (with membership documents) and their
 * messages. One "hot" user takes part in 200 conversations, one of which
 * holds HOT_MESSAGES messages: the pages the benchmark reads are always full.
 * Each message is written with its search terms (message_terms), as the server
 * writes them; each message names one of 100 topics (`topic0` … `topic99`).
 */
import { ObjectId, type Collection, type Document } from "mongodb";
import { directId, directKey } from "../../src/db/conversations.repo.ts";
import { derivedId } from "../../src/db/ids.ts";
import { ensureIndexes } from "../../src/db/indexes.ts";
import { memberId } from "../../src/db/members.ts";
import { termDocsOf } from "../../src/db/message-terms.ts";
import { toMessage } from "../../src/db/messages.repo.ts";
import type { Collections, ConversationDoc, MemberDoc, MessageDoc, UserDoc, UserTermDoc } from "../../src/db/mongo.ts";
import { termsOf } from "../../src/db/user-terms.ts";

export const HOT_USER = "hot.user@bench.example";
export const HOT_CONVERSATIONS = 200;
export const HOT_MESSAGES = 2000;
const BATCH = 2000;

export interface SeedPlan {
  messages: number;
  conversations: number;
  users: number;
}

export interface Seeded {
  hotConversationId: string;
  hotPeer: string;
  seconds: number;
}

const email = (i: number) => (i === 0 ? HOT_USER : `user${i}@bench.example`);
const sorted = (a: string, b: string): [string, string] => (a < b ? [a, b] : [b, a]);

/** Writes docs in batches, two batches in flight (the database works while we build the next). */
async function bulk<T extends Document>(col: Collection<T>, docs: Iterable<T>): Promise<number> {
  let batch: T[] = [];
  const inflight: Promise<unknown>[] = [];
  let n = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    inflight.push(col.insertMany(batch as never[], { ordered: false }));
    n += batch.length;
    batch = [];
    if (inflight.length >= 2) await inflight.shift();
  };
  for (const d of docs) {
    batch.push(d);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  await Promise.all(inflight);
  return n;
}

/**
 * The search terms of the messages as they are generated, written after each batch of messages. Never by reading
 * the messages back: a cursor open across millions of inserts pins SQLite's snapshot, so FerretDB's write-ahead log
 * cannot be checkpointed and grows without bound (it reached 64 GB at 1M messages).
 */
function* withTerms(messages: Iterable<MessageDoc>, terms: Document[]): Generator<MessageDoc> {
  for (const m of messages) {
    for (const t of termDocsOf(toMessage(m))) terms.push(t);
    yield m;
  }
}

export async function seed(c: Collections, plan: SeedPlan, progress: (s: string) => void): Promise<Seeded> {
  const t0 = performance.now();
  await ensureIndexes(c);
  await c.meta.insertMany([
    { _id: "members_v1", done_at: new Date() },
    { _id: "user_terms_v1", done_at: new Date() },
    { _id: "message_terms_v1", done_at: new Date() },
  ]);
  const now = Date.now();

  function* users(): Generator<UserDoc> {
    for (let i = 0; i < plan.users; i++) {
      const e = email(i);
      const name = `Bench User ${i}`;
      yield { _id: derivedId("user", e), email: e, name, profile_image: null, is_online: false, last_seen: null, created_at: new Date(now), terms_name: name };
    }
  }
  function* terms(): Generator<UserTermDoc> {
    for (const u of users()) for (const term of termsOf(u.email, u.name)) yield { _id: derivedId("user_term", u.email, term), term, email: u.email };
  }
  progress(`users ${await bulk(c.users, users())}, search terms ${await bulk(c.userTerms, terms())}`);

  // Conversation k: the hot user with user k+1 for the first HOT_CONVERSATIONS, then distinct pairs (i, i+step).
  const pairOf = (k: number): [string, string] => {
    if (k < HOT_CONVERSATIONS) return sorted(HOT_USER, email(k + 1));
    const i = 1 + (k % (plan.users - 1));
    const step = 1 + Math.floor(k / (plan.users - 1));
    return sorted(email(i), email(1 + ((i - 1 + step) % (plan.users - 1))));
  };
  const perConversation = (k: number) =>
    k === 0 ? HOT_MESSAGES : Math.max(1, Math.round((plan.messages - HOT_MESSAGES) / (plan.conversations - 1)));
  const seen = new Set<string>();
  const convs: { id: string; pair: [string, string]; count: number }[] = [];
  for (let k = 0; convs.length < plan.conversations; k++) {
    const pair = pairOf(k);
    if (pair[0] === pair[1] || seen.has(directKey(pair))) continue;
    seen.add(directKey(pair));
    convs.push({ id: directId(pair).toHexString(), pair, count: perConversation(convs.length) });
  }

  function* conversations(): Generator<ConversationDoc> {
    for (const [k, v] of convs.entries()) {
      const at = new Date(now - (convs.length - k) * 1000);
      yield {
        _id: new ObjectId(v.id), participants: v.pair, direct_key: directKey(v.pair), conversation_type: "direct", created_at: at,
        last_message: `message ${v.count}`, last_message_time: at, last_message_sender: v.pair[0], last_activity: at,
        last_seq: v.count, message_count: v.count, unread: [0, v.count], last_read_at: [null, null],
      };
    }
  }
  function* members(): Generator<MemberDoc> {
    for (const v of convs) for (const user of v.pair) yield { _id: memberId(v.id, user), user, conversation_id: v.id, joined_at: new Date(now) };
  }
  function* messages(): Generator<MessageDoc> {
    for (const [k, v] of convs.entries()) {
      for (let seq = 1; seq <= v.count; seq++) {
        const from = v.pair[seq % 2 === 0 ? 0 : 1];
        yield {
          _id: new ObjectId(), conversation_id: v.id, seq, sender_email: from, sender_name: from.split("@")[0]!,
          message: `message ${seq} of a seeded conversation about topic${(seq * 37 + k * 53) % 100}`, message_type: "text",
          timestamp: new Date(now - (v.count - seq) * 1000), edited: false, edited_at: null, reply_to: null, client_id: null,
        };
      }
    }
  }
  progress(`conversations ${await bulk(c.conversations, conversations())}, members ${await bulk(c.members, members())}`);
  // Messages and their terms go in step: after each batch of messages, the terms gathered so far.
  const messageTerms: Document[] = [];
  let termCount = 0;
  const flushTerms = async () => {
    const batch = messageTerms.splice(0);
    termCount += batch.length;
    for (let i = 0; i < batch.length; i += BATCH * 5) await c.messageTerms.insertMany(batch.slice(i, i + BATCH * 5) as never[], { ordered: false });
  };
  let written = 0;
  const chunk: MessageDoc[] = [];
  for (const m of withTerms(messages(), messageTerms)) {
    chunk.push(m);
    if (chunk.length >= BATCH * 5) {
      written += await bulk(c.messages, chunk.splice(0));
      await flushTerms();
    }
  }
  written += await bulk(c.messages, chunk.splice(0));
  await flushTerms();
  progress(`messages ${written}, message search terms ${termCount}`);
  const hot = convs[0]!;
  return { hotConversationId: hot.id, hotPeer: hot.pair[0] === HOT_USER ? hot.pair[1] : hot.pair[0], seconds: (performance.now() - t0) / 1000 };
}
