/**
 * Which webhook deliveries a new message owes, decided when it is built so the
 * outbox is stored WITH the message (one insert: no message without its
 * deliveries, no delivery without its message). `message.offline` for each
 * recipient with no connected socket, `message.created` once per message when
 * configured. Recipients are a list: a group passes every member but the sender.
 */

export const WEBHOOK_EVENT_TYPES = ["message.offline", "message.created"] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** One delivery still to make. `id` is stable across retries: the receiver dedupes by it. */
export interface PendingDelivery {
  id: string;
  type: WebhookEventType;
  /** The offline recipient (message.offline); null for message.created. */
  recipient: string | null;
  attempts: number;
  last_error?: string;
}

/** A delivery given up after WEBHOOK_RETRY_FOR_MS, recorded on the message. */
export interface FailedDelivery extends PendingDelivery {
  failed_at: Date;
}

/** Stored in the message document: pending deliveries and when the next attempt is due. */
export interface Outbox {
  webhooks: PendingDelivery[];
  webhook_due: Date;
}

/**
 * Which of these users have a connected socket: the presence registry (this process alone, or the whole
 * cluster in cluster mode), asked once per message for all its recipients (a group may have 1,000).
 */
export interface PresencePort {
  onlineAmong(emails: string[]): Promise<string[]>;
}

/** What the message writer asks while building a message document. */
export interface MessageHooks {
  outboxFor(sender: string, recipients: string[], at: Date): Promise<Outbox | null>;
}

export const noMessageHooks: MessageHooks = { outboxFor: async () => null };

export function createWebhookOutbox(o: { events: readonly WebhookEventType[]; presence: PresencePort }): MessageHooks {
  const created = o.events.includes("message.created");
  const offline = o.events.includes("message.offline");
  const delivery = (type: WebhookEventType, recipient: string | null): PendingDelivery => ({ id: crypto.randomUUID(), type, recipient, attempts: 0 });
  return {
    async outboxFor(sender, recipients, at) {
      const webhooks: PendingDelivery[] = created ? [delivery("message.created", null)] : [];
      if (offline) {
        const others = recipients.filter((r) => r !== sender);
        const online = new Set(await o.presence.onlineAmong(others));
        for (const r of others) if (!online.has(r)) webhooks.push(delivery("message.offline", r));
      }
      return webhooks.length > 0 ? { webhooks, webhook_due: at } : null;
    },
  };
}
