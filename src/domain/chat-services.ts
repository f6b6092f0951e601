/**
 * Builds the domain services from repositories. The publisher is resolved
 * lazily (a getter) because the realtime gateway that implements it is built
 * after the services it calls.
 */
import { ConversationsService } from "./conversations.service.ts";
import { GroupReadStates } from "./group-read-states.ts";
import { GroupsService } from "./groups.service.ts";
import { MessageLifecycleService } from "./message-lifecycle.service.ts";
import { MessageWriter } from "./message-writer.ts";
import { MessageSearch, type MessageTermsRepo } from "./message-search.ts";
import { MessagesService } from "./messages.service.ts";
import { noopPublisher, type ChatPublisher, type ConversationsRepo, type MessagesRepo, type UsersRepo } from "./ports.ts";
import type { PresenceRegistry } from "./presence-registry.ts";
import { PresenceService } from "./presence.service.ts";
import { SyncService } from "./sync.service.ts";
import { TypingService } from "./typing.service.ts";
import { UsersService } from "./users.service.ts";
import type { MessageHooks } from "./webhook-outbox.ts";

export interface ChatServices {
  users: UsersService;
  conversations: ConversationsService;
  messages: MessagesService;
  groups: GroupsService;
  lifecycle: MessageLifecycleService;
  presence: PresenceService;
  typing: TypingService;
  sync: SyncService;
  /** Message search; `search.searchIndex.edited/deleted` keep the index right on edits and deletes. */
  search: MessageSearch;
  setPublisher(p: ChatPublisher): void;
}

export interface ChatServiceOptions {
  searchLimit: number;
  typingTtlMs: number;
  writeConcurrency: number;
  /** GROUP_MAX_MEMBERS: members of a group, its owner included. */
  groupMaxMembers: number;
  /** Cached database reachability: while it is down, sends are refused at once instead of queueing. */
  isDatabaseUp?: () => boolean;
  /** Who is connected across the service (default: this process only; cluster mode: shared through Redis). */
  presenceRegistry?: PresenceRegistry;
  /** Several processes create conversations (cluster mode): per-process caches of derived data are off. */
  shared?: boolean;
  /** A search-index write failed after an edit or delete was stored (logged by the caller). */
  onSearchIndexError?: (err: unknown) => void;
  /** Asked while a message is built (the webhook outbox); default: none. */
  messageHooks?: MessageHooks;
}

export function createChatServices(
  repos: { users: UsersRepo; conversations: ConversationsRepo; messages: MessagesRepo; messageTerms: MessageTermsRepo },
  opts: ChatServiceOptions,
): ChatServices {
  let publisher: ChatPublisher = noopPublisher;
  const pub = () => publisher;
  const users = new UsersService(repos.users, { searchLimit: opts.searchLimit });
  // One writer: sends, reads and deletes of a conversation share its queue (see message-writer.ts).
  const groupStates = new GroupReadStates(repos.conversations, opts.shared === true);
  const writer = new MessageWriter(repos.conversations, repos.messages, opts.writeConcurrency, opts.isDatabaseUp, groupStates);
  const conversations = new ConversationsService(repos.conversations, repos.messages, users, pub, writer, opts.shared === true);
  users.onProfileChanged(async (u) => pub().userUpdated(u, await conversations.contactsOf(u.email)));
  const search = new MessageSearch(repos.messageTerms, opts.shared === true, opts.onSearchIndexError, async (id, email) =>
    (await conversations.membersOf(id)).includes(email),
  );
  conversations.onMembershipChanged((_id, affected) => search.forget(affected));
  return {
    users,
    conversations,
    messages: new MessagesService(repos.messages, users, conversations, pub, writer, opts.isDatabaseUp, opts.messageHooks),
    groups: new GroupsService(repos.conversations, users, conversations, pub, opts.groupMaxMembers),
    lifecycle: new MessageLifecycleService(repos.messages, repos.conversations, conversations, writer, pub, search.searchIndex),
    presence: new PresenceService(repos.users, conversations, pub, opts.presenceRegistry),
    typing: new TypingService(conversations, pub, opts.typingTtlMs),
    sync: new SyncService(repos.conversations, repos.messages),
    search,
    setPublisher(p) {
      publisher = p;
    },
  };
}
