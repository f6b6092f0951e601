/**
 * Typing indicators. Only participants may type into a conversation; the
 * other participant is told. A typing state expires by itself after ttlMs
 * when the client vanishes without typing_stop.
 */
import type { ConversationsService } from "./conversations.service.ts";
import type { ChatPublisher } from "./ports.ts";

export class TypingService {
  private readonly expiry = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly conversations: ConversationsService,
    private readonly publisher: () => ChatPublisher,
    private readonly ttlMs: number,
  ) {}

  async set(conversationId: string, caller: string, typing: boolean): Promise<void> {
    const peers = await this.conversations.peersOf(conversationId, caller);
    const key = `${conversationId}\n${caller}`;
    const timer = this.expiry.get(key);
    if (timer) clearTimeout(timer);
    this.expiry.delete(key);
    if (typing) {
      const t = setTimeout(() => {
        this.expiry.delete(key);
        this.publisher().typingChanged(conversationId, caller, peers, false);
      }, this.ttlMs);
      t.unref?.();
      this.expiry.set(key, t);
    } else if (!timer) {
      return; // not typing: nothing to announce
    }
    this.publisher().typingChanged(conversationId, caller, peers, typing);
  }

  /** Stops every typing state of a user (their last socket closed). */
  clearUser(caller: string): void {
    for (const [key, t] of this.expiry) {
      const [conversationId, user] = key.split("\n") as [string, string];
      if (user !== caller) continue;
      clearTimeout(t);
      this.expiry.delete(key);
      void this.conversations.peersOf(conversationId, caller).then(
        (peers) => this.publisher().typingChanged(conversationId, caller, peers, false),
        () => {},
      );
    }
  }

  close(): void {
    for (const t of this.expiry.values()) clearTimeout(t);
    this.expiry.clear();
  }
}
