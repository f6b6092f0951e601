/**
 * Notices other server processes writing the same database outside cluster mode.
 *
 * Without REDIS_URL a process assumes it is the only server on its database, and its conversation-list cache relies
 * on that. Nothing enforces it, so every process (cluster nodes too) keeps a heartbeat document in `meta` and looks
 * at the others':
 * when another live one appears, `onOther` is called once (the caller turns the cache off and logs why). The process
 * that starts second sees the first before it serves anything; the first sees the second within `intervalMs`
 * (250 ms: the window in which the first may still answer a list from its cache after the second wrote).
 */
import type { Collection } from "mongodb";
import type { MetaDoc } from "./mongo.ts";
import { ONE_BATCH } from "./reads.ts";

const PREFIX = "writer:";

/** A process whose heartbeat is older than this is gone (crashed, or stopped without removing its document). */
const liveFor = (intervalMs: number) => intervalMs * 5;
/** Heartbeats of processes gone this long are deleted. */
const PRUNE_AFTER_MS = 3_600_000;

export interface OtherWritersWatch {
  stop(): Promise<void>;
}

export async function watchForOtherWriters(
  meta: Collection<MetaDoc>,
  onOther: (count: number) => void,
  intervalMs = 250,
): Promise<OtherWritersWatch> {
  const me = `${PREFIX}${crypto.randomUUID()}`;
  let seen = false;
  let stopped = false;
  const beat = async () => {
    const now = new Date();
    await meta.updateOne({ _id: me }, { $set: { done_at: now } }, { upsert: true });
    // Only heartbeat documents have ids starting with PREFIX; `meta` holds a handful of documents.
    const all = await meta.find({ _id: { $regex: `^${PREFIX}` } }, ONE_BATCH).toArray();
    const others = all.filter((d) => d._id !== me && now.getTime() - d.done_at.getTime() < liveFor(intervalMs));
    if (others.length > 0 && !seen) {
      seen = true;
      onOther(others.length);
    }
    const dead = all.filter((d) => now.getTime() - d.done_at.getTime() > PRUNE_AFTER_MS).map((d) => d._id);
    if (dead.length > 0) await meta.deleteMany({ _id: { $in: dead } });
  };
  // Not fatal at start either (the database may be restarting): the next heartbeat tries again.
  await beat().catch(() => {});
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    // A heartbeat that fails (database down) is simply tried again next time.
    running ??= beat()
      .catch(() => {})
      .finally(() => (running = null));
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await running;
      await meta.deleteOne({ _id: me }).catch(() => {});
    },
  };
}
