/**
 * Sends the webhook outbox (see domain/webhook-outbox.ts, db/webhook-outbox.repo.ts)
 * to WEBHOOK_URL, apart from chat delivery: a slow or failing host delays only
 * its own deliveries. Every WEBHOOK_POLL_MS it reads the due messages (earliest
 * first, at most WEBHOOK_CONCURRENCY at once), claims each with a lease long
 * enough for all its deliveries, POSTs its pending deliveries (at most
 * WEBHOOK_CONCURRENCY at once; signed, `X-Chat-Delivery` id for dedupe, each
 * bounded by WEBHOOK_TIMEOUT_MS), then stores what is left with its next attempt time:
 * exponential backoff with jitter, capped at WEBHOOK_BACKOFF_MAX_MS; a delivery
 * still failing WEBHOOK_RETRY_FOR_MS after its message was sent is given up and
 * recorded in the message's `webhook_failures`. At least once: a crash between a
 * POST and the record of its success sends it again after the lease.
 */
import type { Conversation } from "../domain/types.ts";
import { conversationView, messageView } from "../domain/views.ts";
import type { FailedDelivery, PendingDelivery } from "../domain/webhook-outbox.ts";
import type { DueOutbox, OutboxRepo } from "../db/webhook-outbox.repo.ts";
import type { Logger } from "../logger.ts";
import { SIGNATURE_HEADER, signatureHeader } from "./signature.ts";

export interface DispatcherConfig {
  url: string;
  secret: string;
  timeoutMs: number;
  concurrency: number;
  retryForMs: number;
  backoffMs: number;
  backoffMaxMs: number;
  pollMs: number;
}

export interface WebhookDispatcher {
  /** Waits for the deliveries in flight (each bounded by the timeout), then stops polling. */
  stop(): Promise<void>;
}

/**
 * How long a claim on a message owing `deliveries` lasts: its POSTs run `concurrency` at once, each
 * bounded by the timeout, so ceil(n/concurrency) rounds, plus a margin (the conversation read, the
 * settle, a slow database). A lease shorter than that would run out mid-way and let another poll
 * claim and re-send everything.
 */
export function leaseFor(deliveries: number, timeoutMs: number, concurrency: number): number {
  return (Math.ceil(Math.max(1, deliveries) / Math.max(1, concurrency)) + 3) * timeoutMs + 5_000;
}

/** Runs `fn` over `items`, at most `limit` at once; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return out;
}

/** n-th retry's delay: base·2^(n-1), capped, with "equal jitter" (half fixed, half random) so retries spread out. */
export function backoffDelay(attempts: number, baseMs: number, maxMs: number, random = Math.random()): number {
  const d = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(d / 2 + (random * d) / 2);
}

export function startWebhookDispatcher(
  cfg: DispatcherConfig,
  deps: { outbox: OutboxRepo; findConversation(id: string): Promise<Conversation | null>; log: Logger },
): WebhookDispatcher {
  const { outbox, log } = deps;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> = Promise.resolve();

  async function post(d: PendingDelivery, item: DueOutbox, conversation: Conversation | null): Promise<string | null> {
    const body = JSON.stringify({
      id: d.id,
      type: d.type,
      created_at: new Date().toISOString(),
      recipient: d.recipient,
      message: messageView(item.message),
      conversation: conversation ? conversationView(conversation) : null,
    });
    try {
      const res = await fetch(cfg.url, {
        method: "POST",
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(cfg.timeoutMs),
        headers: {
          "content-type": "application/json",
          "user-agent": "chat-backend-webhooks",
          "x-chat-delivery": d.id,
          "x-chat-event": d.type,
          [SIGNATURE_HEADER]: signatureHeader(cfg.secret, body),
        },
      });
      await res.body?.cancel().catch(() => {});
      return res.status >= 200 && res.status < 300 ? null : `HTTP ${res.status}`;
    } catch (e) {
      return (e as Error).name === "TimeoutError" ? "timeout" : "network error";
    }
  }

  async function deliver(item: DueOutbox): Promise<void> {
    // A claim outlives every attempt of the message: its POSTs run cfg.concurrency at once, each bounded by the timeout.
    const leaseUntil = new Date(Date.now() + leaseFor(item.deliveries.length, cfg.timeoutMs, cfg.concurrency));
    if (!(await outbox.claim(item, leaseUntil))) return;
    const conversation = await deps.findConversation(item.message.conversation_id);
    const errors = await mapLimit(item.deliveries, cfg.concurrency, (d) => post(d, item, conversation));
    const left: PendingDelivery[] = [];
    const failed: FailedDelivery[] = [];
    for (const [i, d] of item.deliveries.entries()) {
      const error = errors[i]!;
      if (error === null) continue;
      const next = { ...d, attempts: d.attempts + 1, last_error: error };
      // Given up once the message is older than the retry window: recorded on the message, never silently dropped.
      if (Date.now() - item.message.timestamp.getTime() >= cfg.retryForMs) {
        failed.push({ ...next, failed_at: new Date() });
        log.warn("webhook delivery given up", { delivery: d.id, type: d.type, attempts: next.attempts, error });
      } else left.push(next);
    }
    const maxAttempts = Math.max(0, ...left.map((d) => d.attempts));
    const nextDue = left.length > 0 ? new Date(Date.now() + backoffDelay(maxAttempts, cfg.backoffMs, cfg.backoffMaxMs)) : null;
    if (!(await outbox.settle(item.messageId, leaseUntil, left, nextDue, failed))) {
      // The lease ran out before the settle (a stalled process or database): another poll owns the message now
      // and sends its deliveries again; this run's outcome is dropped.
      log.warn("webhook claim lost before settle", { message_id: item.messageId, deliveries: item.deliveries.length, lease_until: leaseUntil.toISOString() });
    }
  }

  async function poll(): Promise<boolean> {
    const due = await outbox.due(new Date(), cfg.concurrency);
    await Promise.all(due.map((item) => deliver(item).catch((err) => log.error("webhook delivery failed", { message_id: item.messageId, err }))));
    return due.length === cfg.concurrency;
  }

  const loop = () => {
    if (stopped) return;
    running = poll().then(
      // A full batch: more may be due, go on at once; otherwise wait for the next poll.
      (full) => void (stopped || (timer = setTimeout(loop, full ? 0 : cfg.pollMs))),
      (err) => {
        log.warn("webhook poll failed", { err });
        if (!stopped) timer = setTimeout(loop, cfg.pollMs);
      },
    );
  };
  timer = setTimeout(loop, 0);

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
