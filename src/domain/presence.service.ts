/**
 * Presence: a user is online while at least one of their sockets is connected
 * (tabs, devices). Counts live in this process; the users collection mirrors
 * is_online/last_seen for REST readers. Presence changes are announced to the
 * users who share a conversation with the user, not to everyone.
 */
import type { ConversationsService } from "./conversations.service.ts";
import type { ChatPublisher, UsersRepo } from "./ports.ts";

export class PresenceService {
  private readonly sockets = new Map<string, number>();

  constructor(
    private readonly users: UsersRepo,
    private readonly conversations: ConversationsService,
    private readonly publisher: () => ChatPublisher,
  ) {}

  /** Clears online flags left by a crash: at start no socket is connected. */
  resetStale(): Promise<number> {
    return this.users.resetAllOffline(new Date());
  }

  async connected(email: string): Promise<void> {
    const n = (this.sockets.get(email) ?? 0) + 1;
    this.sockets.set(email, n);
    if (n !== 1) return;
    await this.users.setPresence(email, true, new Date());
    if (this.sockets.has(email)) this.publisher().presenceChanged(email, true, null, await this.conversations.contactsOf(email));
  }

  async disconnected(email: string): Promise<void> {
    const n = (this.sockets.get(email) ?? 1) - 1;
    if (n > 0) {
      this.sockets.set(email, n);
      return;
    }
    this.sockets.delete(email);
    const at = new Date();
    await this.users.setPresence(email, false, at);
    // A new tab may have connected while we were writing: then the user never went offline.
    if (!this.sockets.has(email)) this.publisher().presenceChanged(email, false, at, await this.conversations.contactsOf(email));
  }

  isOnline(email: string): boolean {
    return this.sockets.has(email);
  }

  /** Online users among the caller's contacts (the people whose presence the caller may see). */
  async onlineContacts(caller: string): Promise<string[]> {
    const contacts = await this.conversations.contactsOf(caller);
    return contacts.filter((e) => this.sockets.has(e));
  }
}
