/**
 * Message search: the caller's messages (only conversations they are a member
 * of), newest first, cursor paging, at O(results) on the term index
 * (message-terms.ts; stored by src/db/message-terms.ts). The query is taken
 * literally: it only ever becomes words compared as strings, never a regex or an
 * operator. Memberships are cached per user for MEMBERSHIP_TTL_MS: a
 * conversation joined elsewhere within that window is searched once it has
 * passed (changes made by this process drop the entry; cluster mode caches
 * nothing). Every conversation a page's hits come from is checked against its
 * current members, so a removal is final at once.
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
/** Rounds of term hits read to fill one page when hits fail the other query words; hits read per round at most. */
const MAX_ROUNDS = 5;
const HITS_MAX = 200;

const encodeCursor = (position: string) => Buffer.from(position).toString("base64url");

function decodeCursor(cursor: string): string {
  const p = Buffer.from(cursor, "base64url").toString();
  if (!/^\d{13}:[0-9a-f]{24}$/.test(p)) throw new AppError("VALIDATION_FAILED", "invalid cursor");
  return p;
}

export class MessageSearch {
  private readonly memberships = new Map<string, { ids: string[]; at: number }>();
  readonly searchIndex: SearchIndex;

  /**
   * `shared` (cluster mode): memberships change on other nodes too, so none is cached. `onIndexError`: an
   * index write that failed after an edit or delete was stored (the change stands; results are checked on
   * the text, so a stale term never shows a wrong hit, a missing one hides the message from search).
   */
  constructor(
    private readonly repo: MessageTermsRepo,
    private readonly shared = false,
    onIndexError: (err: unknown) => void = () => {},
    /**
     * The last word on membership, asked once per conversation a page's hits come from: a member document
     * that outlives its membership (a removal whose second write failed) must not open a conversation.
     */
    private readonly isMember: (conversationId: string, email: string) => Promise<boolean> = async () => true,
  ) {
    this.searchIndex = {
      edited: (before, after) => repo.replace(before, after).catch(onIndexError),
      deleted: (message) => repo.remove(message).catch(onIndexError),
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
    const member = new Map<string, boolean>();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      // Hits of the looked-up term that miss another query word (or a longer prefix) are skipped, so read some spare.
      const want = input.limit - found.length;
      const read = Math.min(HITS_MAX, want * 2 + 10);
      const hits = await this.repo.find(scope, query.lookup, before, read);
      const byId = new Map((await this.repo.messages(hits.map((h) => h.messageId))).map((m) => [m.id, m]));
      for (const c of new Set([...byId.values()].map((m) => m.conversation_id))) {
        if (!member.has(c)) member.set(c, await this.isMember(c, caller));
      }
      for (const [i, h] of hits.entries()) {
        before = h.position;
        const m = byId.get(h.messageId);
        // A message deleted since (its terms go with it) is simply missing; the query words are checked on the text.
        if (m && member.get(m.conversation_id) && matches(m.message, query.words)) found.push(m);
        if (found.length === input.limit) {
          const more = i < hits.length - 1 || hits.length === read;
          return { messages: found, next_cursor: more ? encodeCursor(before) : null };
        }
      }
      if (hits.length < read) return { messages: found, next_cursor: null };
    }
    return { messages: found, next_cursor: before ? encodeCursor(before) : null };
  }

  /** Members joined or left (this process): their cached lists go, so a removed member finds nothing at once. */
  forget(emails: readonly string[]): void {
    for (const e of emails) this.memberships.delete(e);
  }

  /** `expected`: a conversation the caller names; if the cached list lacks it, the list is read afresh. */
  private async conversationsOf(email: string, expected?: string): Promise<string[]> {
    const hit = this.memberships.get(email);
    if (hit && !this.shared && Date.now() - hit.at < MEMBERSHIP_TTL_MS && (!expected || hit.ids.includes(expected))) return hit.ids;
    const ids = await this.repo.conversationIdsOf(email);
    if (this.memberships.size >= MEMBERSHIP_CACHE_MAX) this.memberships.clear();
    this.memberships.set(email, { ids, at: Date.now() });
    return ids;
  }
}
