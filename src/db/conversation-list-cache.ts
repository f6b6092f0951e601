/**
 * A read cache of users' conversation lists in front of a ConversationsRepo (single process only).
 *
 * Why: `GET /api/conversations` is the read every client makes on start and resume (and `sync` and presence read
 * the same list), and it is two queries and a few hundred microseconds of BSON decoding per conversation, for a
 * list that changes only when one of its conversations does.
 *
 * Two levels: each user's assembled list, and the conversations as stored (without a reader), shared by all their
 * members. A user whose list was dropped reads their membership documents again (one indexed query) and only the
 * conversations not held: after a message in one of 200 conversations, one conversation instead of 200; after a
 * message in a 1,000-member group, its document once for all 1,000 members.
 *
 * How it stays exact: every write of the repository names the conversation it writes (and, for membership changes,
 * the users whose lists gain or lose it). When a write ends (applied, failed or unknown), that conversation and
 * every cached list holding it are dropped, as are the lists of the users whose membership changed, before the
 * writer's caller resumes; the next list of those users is read again. A read that overlaps such a write is
 * answered but not kept (it may have seen the database before the write). So a list request that starts after a
 * write was acknowledged never sees the state before it.
 *
 * Only correct when this process is the only writer of its database: off in cluster mode, and turned off by
 * `disable()` when another writer shows up (see server.ts, other-writers.ts).
 * Bounded: at most `maxItems` conversations in lists (least recently listed users go first), and as many stored
 * conversations (least recently used first).
 */
import { assembleList } from "../domain/conversation-list.ts";
import type { ConversationsRepo } from "../domain/ports.ts";
import type { Conversation } from "../domain/types.ts";

export interface ListCacheStats {
  /** False once disable() was called. */
  enabled: boolean;
  hits: number;
  misses: number;
  /** Conversations in cached lists (summed over users). */
  items: number;
  users: number;
  /** Stored conversations held (shared by their members' lists). */
  conversations: number;
}

/** A list read in progress: what was written while it ran. */
interface Reader {
  email: string;
  conversations: Set<string>;
  membershipChanged: boolean;
}

export interface CachedConversationsRepo extends ConversationsRepo {
  listCacheStats(): ListCacheStats;
  /** For good: drops what is held and reads through from now on (another process writes the database). */
  disable(): void;
}

export function withListCache(inner: ConversationsRepo, maxItems: number): CachedConversationsRepo {
  /** email → their list, most recently used last (Map order). */
  const lists = new Map<string, Conversation[]>();
  /** conversation id → the users whose cached list holds it. */
  const holders = new Map<string, Set<string>>();
  /** conversation id → the conversation as stored (no reader), most recently used last. */
  const docs = new Map<string, Conversation>();
  const readers = new Set<Reader>();
  let items = 0;
  let hits = 0;
  let misses = 0;
  let enabled = true;

  const drop = (email: string) => {
    const list = lists.get(email);
    if (!list) return;
    lists.delete(email);
    items -= list.length;
    for (const c of list) {
      const h = holders.get(c.id);
      h?.delete(email);
      if (h?.size === 0) holders.delete(c.id);
    }
  };
  const keep = (email: string, list: Conversation[]) => {
    if (list.length > maxItems) return;
    drop(email);
    lists.set(email, list);
    items += list.length;
    for (const c of list) {
      let h = holders.get(c.id);
      if (!h) holders.set(c.id, (h = new Set()));
      h.add(email);
    }
    // Evict least recently used users until the bound holds.
    for (const oldest of lists.keys()) {
      if (items <= maxItems) break;
      if (oldest !== email) drop(oldest);
    }
  };
  const keepDoc = (c: Conversation) => {
    docs.delete(c.id);
    docs.set(c.id, c);
    for (const oldest of docs.keys()) {
      if (docs.size <= maxItems) break;
      docs.delete(oldest);
    }
  };
  /** After a write of conversation `id` (and of the memberships of `users`): nothing cached or read meanwhile survives it. */
  const written = (id: string | null, users: readonly string[] = []) => {
    if (id !== null) {
      docs.delete(id);
      for (const email of [...(holders.get(id) ?? [])]) drop(email);
    }
    for (const email of users) drop(email);
    for (const r of readers) {
      if (id !== null) r.conversations.add(id);
      if (users.includes(r.email)) r.membershipChanged = true;
    }
  };
  /** Runs a write and invalidates when it ends, whatever its outcome (a failed write may still have been applied). */
  const write = async <T>(id: string | null, users: readonly string[], run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } finally {
      written(id, users);
    }
  };

  // Every method is listed (no spread of `inner`): a write added to the port later cannot pass by uncached.
  const repo: Required<CachedConversationsRepo> = {
    findDirect: (pair) => inner.findDirect(pair),
    findById: (id) => inner.findById(id),
    memberState: (id, user) => inner.memberState(id, user),
    membersOf: (id) => inner.membersOf(id),
    membershipsOfUser: (email) => inner.membershipsOfUser(email),
    findManyById: (ids) => inner.findManyById(ids),
    async listForUser(email) {
      if (!enabled) return inner.listForUser(email);
      const cached = lists.get(email);
      if (cached) {
        hits++;
        // Most recently used goes last.
        lists.delete(email);
        lists.set(email, cached);
        return [...cached];
      }
      misses++;
      const reader: Reader = { email, conversations: new Set(), membershipChanged: false };
      readers.add(reader);
      try {
        const memberships = await inner.membershipsOfUser(email);
        const known = new Map<string, Conversation>();
        const missing: string[] = [];
        for (const m of memberships) {
          const c = docs.get(m.conversation_id);
          if (c) known.set(c.id, c);
          else missing.push(m.conversation_id);
        }
        if (missing.length > 0) {
          for (const c of await inner.findManyById(missing)) {
            known.set(c.id, c);
            if (enabled && !reader.conversations.has(c.id)) keepDoc(c);
          }
        }
        const list = assembleList(email, memberships, (id) => known.get(id));
        const overlapped = reader.membershipChanged || memberships.some((m) => reader.conversations.has(m.conversation_id));
        if (!overlapped && enabled) keep(email, list);
        return [...list];
      } finally {
        readers.delete(reader);
      }
    },
    createGroup: (input) => write(null, input.participants, () => inner.createGroup(input)),
    updateGroup: (id, version, changes) => write(id, changes.participants ?? [], () => inner.updateGroup(id, version, changes)),
    addMemberDocs: (id, users, now, lastReadSeq) => write(id, users, () => inner.addMemberDocs(id, users, now, lastReadSeq)),
    removeMemberDocs: (id, users) => write(id, users, () => inner.removeMemberDocs(id, users)),
    addOwn: (id, user, n) => write(id, [], () => inner.addOwn(id, user, n)),
    setReadPointer: (id, user, state) => write(id, [], () => inner.setReadPointer(id, user, state)),
    setLastMessage: (id, last) => write(id, [], () => inner.setLastMessage(id, last)),
    findOrCreateDirect: (pair, now) => write(null, pair, () => inner.findOrCreateDirect(pair, now)),
    recordMessages: (id, input) => write(id, [], () => inner.recordMessages(id, input)),
    uncount: (id, participantIndex, n) => write(id, [], () => inner.uncount(id, participantIndex, n)),
    markRead: (id, participantIndex, at, unread) => write(id, [], () => inner.markRead(id, participantIndex, at, unread)),
    listCacheStats: () => ({ enabled, hits, misses, items, users: lists.size, conversations: docs.size }),
    disable() {
      enabled = false;
      lists.clear();
      holders.clear();
      docs.clear();
      items = 0;
    },
  };
  return repo;
}
