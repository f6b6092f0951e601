/**
 * The Redis bus with a broadcast to many rooms (a 1,000-member group's message goes to 1,000 user rooms): every
 * broadcast arrives, once per node, for all its rooms with members there, and what travels through Redis grows
 * with the rooms, not with their square (the copies of a broadcast do not carry the room list: with it, one such
 * message was 24 MB and Redis closed the subscriber at its pub/sub output limit after the first).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createRedisBus } from "../../src/cluster/redis-bus.ts";
import { connectRedis } from "../../src/cluster/redis-link.ts";
import { createLogger } from "../../src/logger.ts";
import type { RawData } from "../../src/realtime/engine/parser.ts";
import { waitUntil } from "../helpers/wait.ts";
import { startRedis, stopAll, type Redis } from "./harness.ts";

let redis: Redis;
beforeAll(async () => {
  redis = await startRedis();
}, 30_000);
afterAll(async () => {
  await stopAll();
});

test("50 broadcasts to 1,000 rooms: each delivered once to the 1,000 rooms, with O(rooms) bytes per broadcast", async () => {
  const log = createLogger("silent");
  const prefix = `many${Date.now()}:`;
  const links = [await connectRedis(redis.url, prefix, log), await connectRedis(redis.url, prefix, log)] as const;
  const a = createRedisBus(links[0], "A", log);
  const b = createRedisBus(links[1], "B", log);
  const rooms = Array.from({ length: 1000 }, (_, i) => `user:member${i}@example.com`);
  const got = new Map<number, Set<string>>();
  let duplicates = 0;
  b.onRemote((_nsp: string, _frames: RawData[], to: string[] | null, except: ReadonlySet<string>, cseq: number) => {
    const seen = got.get(cseq) ?? new Set<string>();
    got.set(cseq, seen);
    for (const r of to ?? []) {
      if (seen.has(r) || except.has(r)) duplicates++;
      seen.add(r);
    }
  });
  await b.ensureSubscribed("/", rooms);
  const frame = `2["new_message",{"message":"hello group"}]`;
  for (let i = 0; i < 50; i++) a.publish({ nsp: "/", frames: [frame], rooms, except: [], epoch: "e", seq: i });
  await waitUntil(() => got.size === 50 && [...got.values()].every((s) => s.size === 1000), 20_000, "every broadcast for every room");
  expect(duplicates).toBe(0);
  // Each copy is the frame and a small header, not the 1,000 room names (~30 KB).
  expect(a.stats.publishedBytes / a.stats.published).toBeLessThan(200);
  expect(b.stats.received).toBe(50 * 1000);
  for (const l of links) l.close();
});
