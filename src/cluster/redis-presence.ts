/**
 * Presence shared by the nodes of a cluster, in Redis:
 *   <p>nodes          SET of live node ids
 *   <p>hb:<node>      heartbeat key, refreshed every heartbeat/2 with a TTL of 1.25 × heartbeat
 *   <p>pn:<node>      HASH of the users with a socket on that node
 *   <p>pt             HASH user → number of nodes serving them (absent: offline)
 * Every change is one Lua script, so "first node anywhere" / "last node anywhere" is decided once. Every node
 * sweeps every heartbeat/4: a node in <p>nodes whose heartbeat key expired is reaped by one script (its users
 * subtracted, those left on no node returned to the one survivor that ran it), so a SIGKILLed node's users go
 * offline within 1.25 × heartbeat + heartbeat/4 < 2 × CLUSTER_HEARTBEAT_MS. When Redis comes back (possibly
 * empty) each node rewrites its own users, and so does a node whose heartbeat finds it was reaped while alive
 * (a heartbeat late by a long pause). While Redis is away, answers fall back to this node's own users.
 */
import type { PresenceRegistry } from "../domain/presence-registry.ts";
import type { Logger } from "../logger.ts";
import type { RedisLink } from "./redis-link.ts";

const ADD = `if redis.call('HSETNX', KEYS[1], ARGV[1], 1) == 1 then return redis.call('HINCRBY', KEYS[2], ARGV[1], 1) end
return tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')`;

const REMOVE = `if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then
  local n = redis.call('HINCRBY', KEYS[2], ARGV[1], -1)
  if n <= 0 then redis.call('HDEL', KEYS[2], ARGV[1]) end
  return n
end
return tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')`;

/** Subtracts one node's users from the totals and forgets the node; returns the users now on no node. */
const DROP_NODE = `local function drop(pn, pt)
  local off = {}
  for _, u in ipairs(redis.call('HKEYS', pn)) do
    local n = redis.call('HINCRBY', pt, u, -1)
    if n <= 0 then redis.call('HDEL', pt, u); table.insert(off, u) end
  end
  redis.call('DEL', pn)
  return off
end
`;

/** KEYS: nodes, pt. ARGV: prefix. Reaps every node whose heartbeat expired. */
const SWEEP = `${DROP_NODE}
local off = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. 'hb:' .. id) == 0 then
    for _, u in ipairs(drop(ARGV[1] .. 'pn:' .. id, KEYS[2])) do table.insert(off, u) end
    redis.call('SREM', KEYS[1], id)
  end
end
return off`;

/**
 * KEYS: nodes, pt, pn:<me>, hb:<me>. ARGV: me, ttl ms, users... Rewrites this node's users; returns those that were
 * on no node before (after this node was reaped while alive, the survivor announced them offline).
 */
const RESYNC = `${DROP_NODE}
local had = {}
for _, u in ipairs(redis.call('HKEYS', KEYS[3])) do had[u] = true end
drop(KEYS[3], KEYS[2])
local back = {}
for i = 3, #ARGV do
  redis.call('HSET', KEYS[3], ARGV[i], 1)
  if redis.call('HINCRBY', KEYS[2], ARGV[i], 1) == 1 and not had[ARGV[i]] then table.insert(back, ARGV[i]) end
end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SET', KEYS[4], '1', 'PX', ARGV[2])
return back`;

/** KEYS: nodes, hb:<me>. ARGV: me, ttl ms. Returns 1 when this node was not in the node set (it was reaped). */
const BEAT = `redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
return redis.call('SADD', KEYS[1], ARGV[1])`;

export interface RedisPresence extends PresenceRegistry {
  close(): Promise<void>;
}

export function createRedisPresence(link: RedisLink, nodeId: string, heartbeatMs: number, log: Logger): RedisPresence {
  const p = link.prefix;
  const k = { nodes: `${p}nodes`, pt: `${p}pt`, pn: `${p}pn:${nodeId}`, hb: `${p}hb:${nodeId}` };
  const ttl = String(Math.round(heartbeatMs * 1.25));
  /** This node's users: the truth to rewrite when Redis comes back, and the answer while it is away. */
  const mine = new Set<string>();
  let reaped: (emails: string[]) => void = () => {};
  let restored: (emails: string[]) => void = () => {};
  let warned = false;
  const degraded = (err: unknown) => {
    if (!warned) log.warn("cluster presence: redis unavailable, answering from this node's sockets", { err: (err as Error).message });
    warned = true;
  };
  const evalScript = (script: string, keys: string[], args: string[]) => link.send("EVAL", [script, String(keys.length), ...keys, ...args]);

  /** A resynchronisation failed: the next heartbeat tries again. */
  let stale = false;
  /** `announce`: after being reaped while alive, the users that had gone offline for the others come back online. */
  const resync = (announce = false) =>
    evalScript(RESYNC, [k.nodes, k.pt, k.pn, k.hb], [nodeId, ttl, ...mine]).then(
      (back) => {
        if (announce && (back as string[]).length > 0) restored(back as string[]);
        stale = false;
        warned = false;
        log.info("cluster presence: this node's users written to redis", { users: mine.size });
      },
      (err) => {
        stale = true;
        log.warn("cluster presence: resynchronisation failed; retried at the next heartbeat", { err: (err as Error).message });
      },
    );
  link.onUp(() => void resync());
  const beat = setInterval(() => {
    evalScript(BEAT, [k.nodes, k.hb], [nodeId, ttl]).then((absent) => {
      if (Number(absent) === 1) {
        // Reaped while alive (a late heartbeat, e.g. a long GC pause): this node's users were subtracted.
        log.warn("cluster presence: this node was reaped by another one (late heartbeat); rewriting its users");
        return void resync(true);
      }
      if (stale) void resync();
    }, degraded);
  }, Math.max(10, Math.floor(heartbeatMs / 2)));
  const sweep = setInterval(() => {
    evalScript(SWEEP, [k.nodes, k.pt], [p]).then(
      (off) => {
        const users = off as string[];
        if (users.length === 0) return;
        log.info("cluster presence: reaped users of a dead node", { users: users.length });
        reaped(users);
      },
      () => {},
    );
  }, Math.max(5, Math.floor(heartbeatMs / 4)));

  return {
    async add(email) {
      mine.add(email);
      try {
        return Number(await evalScript(ADD, [k.pn, k.pt], [email])) === 1;
      } catch (err) {
        degraded(err);
        return true;
      }
    },
    async remove(email) {
      mine.delete(email);
      try {
        return Number(await evalScript(REMOVE, [k.pn, k.pt], [email])) <= 0;
      } catch (err) {
        degraded(err);
        return true;
      }
    },
    async isConnectedAnywhere(email) {
      try {
        const r = await link.send("HEXISTS", [k.pt, email]);
        return r === 1 || r === true || mine.has(email);
      } catch (err) {
        degraded(err);
        return mine.has(email);
      }
    },
    async onlineAmong(emails) {
      if (emails.length === 0) return [];
      try {
        const counts = (await link.send("HMGET", [k.pt, ...emails])) as (string | null)[];
        return emails.filter((e, i) => counts[i] !== null || mine.has(e));
      } catch (err) {
        degraded(err);
        return emails.filter((e) => mine.has(e));
      }
    },
    resetsAllAtStart: false,
    onReaped(fn) {
      reaped = fn;
    },
    onRestored(fn) {
      restored = fn;
    },
    async close() {
      clearInterval(beat);
      clearInterval(sweep);
      // A clean stop: this node's users are subtracted now rather than reaped later.
      mine.clear();
      await evalScript(RESYNC, [k.nodes, k.pt, k.pn, k.hb], [nodeId, "1"]).catch(() => {});
      await link.send("SREM", [k.nodes, nodeId]).catch(() => {});
      await link.send("DEL", [k.hb]).catch(() => {});
    },
  };
}
