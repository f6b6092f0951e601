/**
 * Builds the domain services from repositories. The publisher is resolved
 * lazily (a getter) because the realtime gateway that implements it is built
 * after the services it calls.
 */
import { ConversationsService } from "./conversations.service.ts";
import { MessageSearch, type MessageTermsRepo } from "./message-search.ts";
import { MessagesService } from "./messages.service.ts";
import { noopPublisher, type ChatPublisher, type ConversationsRepo, type MessagesRepo, type UsersRepo } from "./ports.ts";
import { PresenceService } from "./presence.service.ts";
import { SyncService } from "./sync.service.ts";
import { TypingService } from "./typing.service.ts";
import { UsersService } from "./users.service.ts";
import type { MessageHooks } from "./webhook-outbox.ts";

export interface ChatServices {
  users: UsersService;
  conversations: ConversationsService;
  messages: MessagesService;
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
  /** Cached database reachability: while it is down, sends are refused at once instead of queueing. */
  isDatabaseUp?: () => boolean;
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
  const conversations = new ConversationsService(repos.conversations, repos.messages, users, pub);
  users.onProfileChanged(async (u) => pub().userUpdated(u, await conversations.contactsOf(u.email)));
  return {
    users,
    conversations,
    messages: new MessagesService(repos.conversations, repos.messages, users, conversations, pub, opts.writeConcurrency, opts.isDatabaseUp, opts.messageHooks),
    presence: new PresenceService(repos.users, conversations, pub),
    typing: new TypingService(conversations, pub, opts.typingTtlMs),
    sync: new SyncService(repos.conversations, repos.messages),
    search: new MessageSearch(repos.messageTerms),
    setPublisher(p) {
      publisher = p;
    },
  };
}
