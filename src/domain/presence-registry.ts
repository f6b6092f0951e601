/**
 * Who is connected, as far as the whole service is concerned: the port behind which presence is counted.
 * PresenceService counts sockets per user in this process and tells the registry when a user gets their
 * first socket here and loses their last one here; the registry answers whether that was the first / last
 * anywhere. In-process (one node) it is a set of users; in cluster mode (src/cluster/redis-presence.ts) the
 * counts are shared through Redis and the survivors reap a dead node's users.
 */
export interface PresenceRegistry {
  /** The user's first socket on this node connected; true when no other node serves them (they came online). */
  add(email: string): Promise<boolean>;
  /** The user's last socket on this node closed; true when no other node serves them (they went offline). */
  remove(email: string): Promise<boolean>;
  /** Whether the user has a socket connected on any node. */
  isConnectedAnywhere(email: string): Promise<boolean>;
  /** The users among `emails` with a socket on any node. */
  onlineAmong(emails: string[]): Promise<string[]>;
  /**
   * At start: whether every stored online flag is stale and may be reset (one node: no socket survives a
   * restart; cluster: no — other nodes are serving their users, and a dead node's users are reaped instead).
   */
  readonly resetsAllAtStart: boolean;
  /** Called with users whose node died and who are on no other node: they went offline (once, on one survivor). */
  onReaped(fn: (emails: string[]) => void): void;
  /**
   * Called on a node that was reaped while alive (its heartbeat late, e.g. a long pause) with its users that had
   * gone offline for the others: they are back online.
   */
  onRestored(fn: (emails: string[]) => void): void;
}

export function createLocalPresenceRegistry(): PresenceRegistry {
  const online = new Set<string>();
  return {
    async add(email) {
      online.add(email);
      return true;
    },
    async remove(email) {
      online.delete(email);
      return true;
    },
    async isConnectedAnywhere(email) {
      return online.has(email);
    },
    async onlineAmong(emails) {
      return emails.filter((e) => online.has(e));
    },
    resetsAllAtStart: true,
    onReaped() {},
    onRestored() {},
  };
}
