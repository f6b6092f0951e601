/**
 * "What did I miss?": the changes of the caller's conversations since a
 * cursor, for a client that was away longer than connection-state recovery
 * covers (or across a server restart). A page holds the conversations with
 * activity since then (their current state, unread counts included) and their
 * new messages, oldest conversation first and each conversation's messages by
 * seq, at most `limit` messages; `has_more` with the next `cursor` continues
 * exactly where the page stopped. The cursor is opaque; it records a time
 * (taken a margin before the server's clock at the previous sync, so a message
 * numbered just before then is never missed) and a position in the page order.
 * A page may repeat messages the client already has: clients dedupe by id
 * (every message carries its conversation_id and seq). Cost: the caller's
 * conversations plus the new messages, read backwards through the
 * (conversation_id, seq) index until older than the cursor; never a scan.
 */
import { AppError } from "../errors.ts";
import { byActivityAscending } from "./conversation-order.ts";
import type { ConversationsRepo, MessagesRepo } from "./ports.ts";
import type { Conversation, Message } from "./types.ts";

/** Messages stored within this much before a sync may still be numbered after others seen by it. */
const MARGIN_MS = 5_000;
const READ_BATCH = 100;

export interface SyncPage {
  conversations: Conversation[];
  /** Oldest conversation first, each conversation's by seq. */
  messages: Message[];
  has_more: boolean;
  cursor: string;
}

/** since: ms; at/id/seq: where the previous page stopped (the conversation and the last seq it returned). */
interface Cursor {
  since: number;
  at?: number;
  id?: string;
  seq?: number;
}

const encode = (c: Cursor) => Buffer.from(JSON.stringify(["v1", c.since, c.at ?? null, c.id ?? null, c.seq ?? null])).toString("base64url");

function decode(s: string): Cursor {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(s, "base64url").toString());
  } catch {
    v = null;
  }
  const ok =
    Array.isArray(v) && v.length === 5 && v[0] === "v1" && Number.isSafeInteger(v[1]) && v[1] >= 0 &&
    (v[2] === null || Number.isSafeInteger(v[2])) && (v[3] === null || (typeof v[3] === "string" && /^[0-9a-f]{24}$/.test(v[3]))) &&
    (v[4] === null || (Number.isSafeInteger(v[4]) && v[4] >= 0));
  if (!ok) throw new AppError("VALIDATION_FAILED", "invalid sync cursor");
  const [, since, at, id, seq] = v as [string, number, number | null, string | null, number | null];
  return { since, ...(at !== null && id !== null ? { at, id } : {}), ...(seq !== null ? { seq } : {}) };
}

export class SyncService {
  constructor(
    private readonly conversations: ConversationsRepo,
    private readonly messages: MessagesRepo,
  ) {}

  /** A cursor for "from now on" (what a client stores before it starts listening). */
  now(): string {
    return encode({ since: Date.now() - MARGIN_MS });
  }

  /** Without a cursor: an empty page whose cursor means "from now on". */
  async changes(caller: string, cursor: string | undefined, limit: number): Promise<SyncPage> {
    if (cursor === undefined) return { conversations: [], messages: [], has_more: false, cursor: this.now() };
    const c = decode(cursor);
    const startedAt = Date.now();
    const changed = (await this.conversations.listForUser(caller))
      .filter((x) => x.last_activity.getTime() > c.since)
      .sort(byActivityAscending);
    // Resume after the position of the previous page (conversations that moved since then come again: duplicates, not gaps).
    const start = c.id === undefined ? 0 : changed.findIndex((x) => x.id === c.id || byActivityAscending(x, { last_activity: new Date(c.at!), id: c.id! }) > 0);
    const out: SyncPage = { conversations: [], messages: [], has_more: false, cursor: "" };
    for (const conv of start === -1 ? [] : changed.slice(start)) {
      const resumeAfter = conv.id === c.id ? c.seq : undefined;
      const fresh = await this.newMessages(conv, c.since, resumeAfter);
      const room = limit - out.messages.length;
      out.conversations.push(conv);
      if (fresh.length > room) {
        const taken = fresh.slice(0, room);
        out.messages.push(...taken);
        const last = taken[taken.length - 1];
        out.has_more = true;
        out.cursor = encode({ since: c.since, at: conv.last_activity.getTime(), id: conv.id, seq: last?.seq ?? resumeAfter ?? 0 });
        return out;
      }
      out.messages.push(...fresh);
    }
    out.cursor = encode({ since: startedAt - MARGIN_MS });
    return out;
  }

  /** The conversation's messages stored after `since` (and after seq `after`), by seq. */
  private async newMessages(conv: Conversation, since: number, after?: number): Promise<Message[]> {
    const found: Message[] = [];
    let before = conv.last_seq + 1;
    for (;;) {
      const page = await this.messages.pageBefore(conv.id, before, READ_BATCH);
      for (const m of page) {
        if (m.timestamp.getTime() <= since || (after !== undefined && m.seq <= after)) return found.reverse();
        found.push(m);
      }
      if (page.length < READ_BATCH) return found.reverse();
      before = page[page.length - 1]!.seq;
    }
  }
}
