/**
 * Revocations that reach every node: the node where a logout happens revokes the token in its own store
 * (database + memory + its sockets) and publishes `{jti, email, exp}` on the cluster's revocation channel;
 * every other node remembers the jti in its local store's memory only (refused on REST and socket connect from
 * then on; expired ones swept with the local ones) and tells its own listeners, which disconnect that token's
 * sockets. A node that starts later reads revocations from the database as before. `unrevoke` (a re-enabled
 * user) travels the same way: only the node where it happens writes the database, the others forget it. While Redis is away, the database still has them: other nodes refuse the token at their
 * next start, and its sockets there run until the token expires (the documented limit of an outage).
 */
import type { LocalRevocationStore, RevocationStore } from "../auth/revocations.ts";
import type { Logger } from "../logger.ts";
import type { RedisLink } from "./redis-link.ts";

export function createClusterRevocationStore(local: LocalRevocationStore, link: RedisLink, nodeId: string, log: Logger): RevocationStore {
  const channel = `${link.prefix}revoked`;
  const listeners: ((jti: string, email: string) => void)[] = [];
  const onMessage = (message: string) => {
    try {
      const { jti, email, exp, from, lifted } = JSON.parse(message) as { jti: string; email: string; exp: number; from: string; lifted?: boolean };
      if (from === nodeId) return;
      if (lifted) {
        // A re-enabled user: forgotten here too (this node may have read the revocation from the database at
        // start). The originating node already removed it from the database.
        local.forget(jti);
        return;
      }
      // Into local memory (no database write); the local store calls its listeners, which call ours.
      local.remember(jti, email, exp);
    } catch (err) {
      log.error("cluster revocations: bad message dropped", { err });
    }
  };
  link.onUp(() => void link.sub?.subscribe(channel, onMessage).catch(() => {}));
  local.onRevoked((jti, email) => {
    for (const fn of listeners) fn(jti, email);
  });
  return {
    async revoke(jti, email, expiresAt) {
      await local.revoke(jti, email, expiresAt);
      await link.send("PUBLISH", [channel, JSON.stringify({ jti, email, exp: expiresAt, from: nodeId })]).catch((err: unknown) =>
        log.warn("cluster revocations: publish failed; other nodes learn it from the database at their next start", { err: (err as Error).message }),
      );
    },
    async unrevoke(jti) {
      await local.unrevoke(jti);
      await link.send("PUBLISH", [channel, JSON.stringify({ jti, email: "", exp: 0, from: nodeId, lifted: true })]).catch((err: unknown) =>
        log.warn("cluster revocations: publish failed; other nodes learn it from the database at their next start", { err: (err as Error).message }),
      );
    },
    isRevoked(jti) {
      return local.isRevoked(jti);
    },
    onRevoked(fn) {
      listeners.push(fn);
    },
  };
}
