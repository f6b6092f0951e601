/**
 * Presence: a user is online while at least one of their sockets is connected
 * (tabs, devices). Sockets are counted in this process; whether the user is on
 * another node too is the PresenceRegistry's answer (cluster mode). The users
 * collection mirrors is_online/last_seen for REST readers. Presence changes are announced to the
 * users who share a conversation with the user, not to everyone.
 */
import type { ConversationsService } from "./conversations.service.ts";
import type { ChatPublisher, UsersRepo } from "./ports.ts";
import { createLocalPresenceRegistry, type PresenceRegistry } from "./presence-registry.ts";

interface Grace {
  timer: ReturnType<typeof setTimeout>;
  end(elapsed: boolean): void;
}

export class PresenceService {
  private readonly sockets = new Map<string, number>();
  /** Sockets lost within their grace period, per user: each keeps its place until it expires or a reconnect takes it. */
  private readonly graces = new Map<string, Grace[]>();

  constructor(
    private readonly users: UsersRepo,
    private readonly conversations: ConversationsService,
    private readonly publisher: () => ChatPublisher,
    readonly registry: PresenceRegistry = createLocalPresenceRegistry(),
  ) {
    registry.onReaped((emails) => {
      for (const email of emails) void this.wentOffline(email, new Date()).catch(() => {});
    });
    registry.onRestored((emails) => {
      for (const email of emails) if (this.sockets.has(email)) void this.cameOnline(email).catch(() => {});
    });
  }

  /** Clears online flags left by a crash (one node: at start no socket is connected; a cluster reaps dead nodes instead). */
  async resetStale(): Promise<number> {
    return this.registry.resetsAllAtStart ? this.users.resetAllOffline(new Date()) : 0;
  }

  /** Whether the user has a socket on any node (webhooks: deliver to offline users only). */
  isConnectedAnywhere(email: string): Promise<boolean> {
    return this.registry.isConnectedAnywhere(email);
  }

  async connected(email: string): Promise<void> {
    const pending = this.graces.get(email)?.shift();
    if (pending) {
      // Back within the grace period: this socket takes the lost one's place, and contacts saw nothing.
      if (this.graces.get(email)!.length === 0) this.graces.delete(email);
      clearTimeout(pending.timer);
      pending.end(false);
      return;
    }
    const n = (this.sockets.get(email) ?? 0) + 1;
    this.sockets.set(email, n);
    if (n !== 1) return;
    if (!(await this.registry.add(email))) return;
    await this.cameOnline(email);
  }

  private async cameOnline(email: string): Promise<void> {
    await this.users.setPresence(email, true, new Date());
    if (this.sockets.has(email)) this.publisher().presenceChanged(email, true, null, await this.conversations.contactsOf(email));
  }

  /** A socket closed; with `graceMs` (a lost transport) the user stays online that long unless they come back. */
  async disconnected(email: string, graceMs = 0): Promise<void> {
    if (graceMs > 0 && !(await this.grace(email, graceMs))) return;
    const n = (this.sockets.get(email) ?? 1) - 1;
    if (n > 0) {
      this.sockets.set(email, n);
      return;
    }
    this.sockets.delete(email);
    if (!(await this.registry.remove(email))) return;
    await this.wentOffline(email, new Date());
  }

  private async wentOffline(email: string, at: Date): Promise<void> {
    await this.users.setPresence(email, false, at);
    // A new tab may have connected while we were writing: then the user never went offline.
    if (!this.sockets.has(email)) this.publisher().presenceChanged(email, false, at, await this.conversations.contactsOf(email));
  }

  /** Resolves true when the grace period ran out, false when a reconnect took the socket's place. */
  private grace(email: string, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const list = this.graces.get(email) ?? [];
      this.graces.set(email, list);
      const g: Grace = {
        end: resolve,
        timer: setTimeout(() => {
          list.splice(list.indexOf(g), 1);
          if (list.length === 0 && this.graces.get(email) === list) this.graces.delete(email);
          resolve(true);
        }, ms),
      };
      list.push(g);
    });
  }

  /**
   * Ends every pending grace period now, as if it ran out (server stopping: the lost sockets cannot come back
   * to this process), so their offline updates run while the stop still waits for in-flight work.
   */
  endGraces(): void {
    this.finishGraces(true);
  }

  /** Drops pending grace periods without announcing anything (after the stop). */
  close(): void {
    this.finishGraces(false);
  }

  private finishGraces(elapsed: boolean): void {
    const all = [...this.graces.values()].flat();
    this.graces.clear();
    for (const g of all) {
      clearTimeout(g.timer);
      g.end(elapsed);
    }
  }

  isOnline(email: string): boolean {
    return this.sockets.has(email);
  }

  /** Online users among the caller's contacts (the people whose presence the caller may see). */
  async onlineContacts(caller: string): Promise<string[]> {
    const contacts = await this.conversations.contactsOf(caller);
    return this.registry.onlineAmong(contacts);
  }
}
