/**
 * The connection to Redis for cluster mode: one connection for commands and one for SUBSCRIBE (a subscribed
 * connection runs no other commands), on Bun's built-in RedisClient. Bun's own reconnect is off: when either
 * connection drops, both are replaced after a backoff (100 ms doubling up to 5 s) and everyone who registered
 * `onUp` is told, so subscriptions are made again and presence resynchronised. While Redis is away, commands
 * fail at once (no offline queue): callers keep serving this process's sockets and say so in the log.
 */
import { RedisClient } from "bun";
import type { Logger } from "../logger.ts";

export interface RedisLink {
  /** The command connection (null while Redis is away). */
  readonly cmd: RedisClient | null;
  /** The subscriber connection (null while Redis is away). */
  readonly sub: RedisClient | null;
  readonly up: boolean;
  /** Keys and channels of this cluster start with it (REDIS_KEY_PREFIX). */
  readonly prefix: string;
  /** Called now if up, and after every reconnect. */
  onUp(fn: () => void): void;
  onDown(fn: () => void): void;
  /** Runs a command; rejects at once while Redis is away. */
  send(command: string, args: string[]): Promise<unknown>;
  close(): void;
}

const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 5_000;

export async function connectRedis(url: string, prefix: string, log: Logger): Promise<RedisLink> {
  let cmd: RedisClient | null = null;
  let sub: RedisClient | null = null;
  let closed = false;
  let wait = BACKOFF_FIRST_MS;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const ups: (() => void)[] = [];
  const downs: (() => void)[] = [];

  const open = async (): Promise<void> => {
    const opts = { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: 2_000 };
    const c = new RedisClient(url, opts);
    const s = new RedisClient(url, opts);
    try {
      await Promise.all([c.connect(), s.connect()]);
    } catch (err) {
      c.close();
      s.close();
      throw err;
    }
    const lost = (err: Error) => {
      if (cmd !== c) return;
      cmd = sub = null;
      c.close();
      s.close();
      log.warn("redis connection lost: serving this node's sockets only until it is back", { err: err?.message });
      for (const fn of downs) fn();
      schedule();
    };
    c.onclose = lost;
    s.onclose = lost;
    cmd = c;
    sub = s;
    wait = BACKOFF_FIRST_MS;
  };

  const schedule = () => {
    if (closed) return;
    retry = setTimeout(async () => {
      try {
        await open();
        log.info("redis connection back: resynchronising");
        for (const fn of ups) fn();
      } catch (err) {
        wait = Math.min(wait * 2, BACKOFF_MAX_MS);
        log.debug("redis reconnect failed", { err: (err as Error).message, next_ms: wait });
        schedule();
      }
    }, wait);
  };

  await open();
  return {
    get cmd() {
      return cmd;
    },
    get sub() {
      return sub;
    },
    get up() {
      return cmd !== null;
    },
    prefix,
    onUp(fn) {
      ups.push(fn);
      if (cmd) fn();
    },
    onDown(fn) {
      downs.push(fn);
    },
    send(command, args) {
      if (!cmd) return Promise.reject(new Error("redis unavailable"));
      return cmd.send(command, args);
    },
    close() {
      closed = true;
      clearTimeout(retry);
      const c = cmd;
      const s = sub;
      cmd = sub = null;
      c?.close();
      s?.close();
    },
  };
}
