/**
 * Message search: the caller's messages (only conversations they are a member
 * of), newest first, cursor paging, at O(results) on the term index
 * (message-terms.ts; stored by src/db/message-terms.ts). The query is taken
 * literally: it only ever becomes words compared as strings, never a regex or an
 * operator. Memberships are cached per user for MEMBERSHIP_TTL_MS: a
 * conversation joined within that window is searched once it has passed.
 *
 * `searchIndex.edited(before, after)` and `searchIndex.deleted(message)` keep
 * the index right when messages change (called by the edit/delete paths).
 */
import { AppError } from "../errors.ts";
import { matches, parseQuery } from "./message-terms.ts";
import type { Message } from "./types.ts";

/** One hit of the term index: the message and its position in the newest-first order (opaque, comparable). */
export interface TermHit {
  messageId: string;
  position: string;
}

export interface MessageTermsRepo {
  /** Hits of `term` in the conversations, newest first, strictly before `before` when given. */
  find(conversationIds: string[], term: string, before: string | null, limit: number): Promise<TermHit[]>;
  /** The messages by id (missing ones left out). */
  messages(ids: string[]): Promise<Message[]>;
  replace(before: Message, after: Message): Promise<void>;
  remove(message: Message): Promise<void>;
  conversationIdsOf(email: string): Promise<string[]>;
}

export interface SearchPage {
  messages: Message[];
  next_cursor: string | null;
}

export interface SearchIndex {
  edited(before: Message, after: Message): Promise<void>;
  deleted(message: Message): Promise<void>;
}

const MEMBERSHIP_TTL_MS = 5_000;
const MEMBERSHIP_CACHE_MAX = 50_000;
/** Rounds of term hits read to fill one page when hits fail the other query words. */
const MAX_ROUNDS = 5;

const encodeCursor = (position: string) => Buffer.from(position).toString("base64url");

function decodeCursor(cursor: string): string {
  const p = Buffer.from(cursor, "base64url").toString();
  if (!/^\d{13}:[0-9a-f]{24}$/.test(p)) throw new AppError("VALIDATION_FAILED", "invalid cursor");
  return p;
}

export class MessageSearch {
  private readonly memberships = new Map<string, { ids: string[]; at: number }>();
  readonly searchIndex: SearchIndex;

  constructor(private readonly repo: MessageTermsRepo) {
    this.searchIndex = {
      edited: (before, after) => repo.replace(before, after),
      deleted: (message) => repo.remove(message),
    };
  }

  async search(caller: string, input: { q: string; conversation_id?: string; limit: number; cursor?: string }): Promise<SearchPage> {
    const query = parseQuery(input.q);
    let before = input.cursor ? decodeCursor(input.cursor) : null;
    if (!query) return { messages: [], next_cursor: null };
    const mine = await this.conversationsOf(caller, input.conversation_id);
    const scope = input.conversation_id ? mine.filter((id) => id === input.conversation_id) : mine;
    if (input.conversation_id && scope.length === 0) throw new AppError("CONVERSATION_NOT_FOUND", "conversation not found");
    if (scope.length === 0) return { messages: [], next_cursor: null };

    const found: Message[] = [];
    for (let round = 0; round < MAX_ROUNDS && found.length < input.limit; round++) {
      const want = input.limit - found.length;
      // One more than needed tells whether a next page exists.
      const hits = await this.repo.find(scope, query.lookup, before, want + 1);
      const page = hits.slice(0, want);
      const byId = new Map((await this.repo.messages(page.map((h) => h.messageId))).map((m) => [m.id, m]));
      for (const h of page) {
        const m = byId.get(h.messageId);
        // A message deleted since (its terms go with it) is simply missing; the other query words are checked on the text.
        if (m && matches(m.message, query.words)) found.push(m);
      }
      before = page.at(-1)?.position ?? before;
      if (hits.length <= want) return { messages: found, next_cursor: null };
    }
    return { messages: found, next_cursor: before ? encodeCursor(before) : null };
  }

  /** `expected`: a conversation the caller names; if the cached list lacks it, the list is read afresh. */
  private async conversationsOf(email: string, expected?: string): Promise<string[]> {
    const hit = this.memberships.get(email);
    if (hit && Date.now() - hit.at < MEMBERSHIP_TTL_MS && (!expected || hit.ids.includes(expected))) return hit.ids;
    const ids = await this.repo.conversationIdsOf(email);
    if (this.memberships.size >= MEMBERSHIP_CACHE_MAX) this.memberships.clear();
    this.memberships.set(email, { ids, at: Date.now() });
    return ids;
  }
}
