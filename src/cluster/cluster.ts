/**
 * Cluster mode's composition: with REDIS_URL set, the Redis link and the shared implementations of the small
 * interfaces the server is built on — the Socket.IO bus (per-room channels), the presence registry, the rate
 * limiter factory, the revocation store, and "disconnect this user everywhere". Without REDIS_URL, the
 * in-process ones. server.ts takes whichever it gets: no `if (cluster)` anywhere else.
 */
import { randomBytes } from "node:crypto";
import type { LocalRevocationStore, RevocationStore } from "../auth/revocations.ts";
import type { Config } from "../config.ts";
import { createLocalPresenceRegistry, type PresenceRegistry } from "../domain/presence-registry.ts";
import { localRateLimiters, type RateLimiterFactory } from "../limits/rate-limiter.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { LOCAL_BUS, type BroadcastBus } from "../realtime/socketio/bus.ts";
import type { SocketIOServer } from "../realtime/socketio/server.ts";
import { createUserSockets, type UserSockets } from "../realtime/user-sockets.ts";
import { createClusterRevocationStore } from "./cluster-revocations.ts";
import { createRedisBus } from "./redis-bus.ts";
import { connectRedis } from "./redis-link.ts";
import { createRedisPresence } from "./redis-presence.ts";
import { createRedisReplay } from "./redis-replay.ts";
import type { ClusterReplay } from "../realtime/socketio/cluster-replay.ts";
import { createRedisRateLimiterFactory } from "./redis-rate-limiter.ts";

export interface Cluster {
  /** This process's id in the cluster ("local" when not in cluster mode). */
  readonly nodeId: string;
  /** Several processes share the database and the service (per-process caches of shared data must be off). */
  readonly shared: boolean;
  readonly bus: BroadcastBus;
  readonly presence: PresenceRegistry;
  /** Connection state recovery across nodes (cluster mode with RECOVERY_WINDOW_MS > 0). */
  readonly replay: ClusterReplay | undefined;
  readonly limiters: RateLimiterFactory;
  revocations(local: LocalRevocationStore): RevocationStore;
  userSockets(io: SocketIOServer): UserSockets;
  close(): Promise<void>;
}

export async function startCluster(cfg: Config, log: Logger, metrics?: Metrics): Promise<Cluster> {
  if (!cfg.REDIS_URL) {
    return {
      nodeId: "local",
      shared: false,
      bus: LOCAL_BUS,
      presence: createLocalPresenceRegistry(),
      replay: undefined,
      limiters: localRateLimiters,
      revocations: (local) => local,
      userSockets: (io) => createUserSockets(io),
      close: async () => {},
    };
  }
  const nodeId = randomBytes(6).toString("base64url");
  const link = await connectRedis(cfg.REDIS_URL, cfg.REDIS_KEY_PREFIX, log);
  const bus = createRedisBus(link, nodeId, log);
  const presence = createRedisPresence(link, nodeId, cfg.CLUSTER_HEARTBEAT_MS, log);
  metrics?.watchClusterBus(() => bus.stats);
  const control = `${link.prefix}ctl`;
  log.info("cluster mode: joined through redis", { node: nodeId, prefix: link.prefix, heartbeat_ms: cfg.CLUSTER_HEARTBEAT_MS });
  return {
    nodeId,
    shared: true,
    bus,
    presence,
    replay: cfg.RECOVERY_WINDOW_MS > 0 ? createRedisReplay(link, bus, cfg.RECOVERY_WINDOW_MS, log) : undefined,
    limiters: createRedisRateLimiterFactory(link, log),
    revocations: (local) => createClusterRevocationStore(local, link, nodeId, log),
    userSockets(io) {
      let local: UserSockets | undefined;
      const onMessage = (message: string) => {
        try {
          const m = JSON.parse(message) as { t: string; email: string; code: string; from: string };
          if (m.t === "disconnect_user" && m.from !== nodeId) local?.disconnectLocal(m.email, m.code);
        } catch (err) {
          log.error("cluster control: bad message dropped", { err });
        }
      };
      link.onUp(() => void link.sub?.subscribe(control, onMessage).catch(() => {}));
      local = createUserSockets(io, async (email, code) => {
        await link.send("PUBLISH", [control, JSON.stringify({ t: "disconnect_user", email, code, from: nodeId })]);
      });
      return local;
    },
    async close() {
      await presence.close();
      link.close();
    },
  };
}
