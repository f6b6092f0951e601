/**
 * The webhook outbox inside message documents (`webhooks`, `webhook_due`; see
 * domain/webhook-outbox.ts). Due messages are found by a range on the
 * `scalar_webhook_due` index (pushed down on FerretDB). A process claims one by
 * a conditional update that moves `webhook_due` to its lease's end: of two
 * processes that read the same due document, only one update matches, so only
 * one sends. If the claimant dies, the lease runs out and the deliveries are
 * due again (at least once).
 */
import type { Collection } from "mongodb";
import type { Message } from "../domain/types.ts";
import type { FailedDelivery, PendingDelivery } from "../domain/webhook-outbox.ts";
import { parseId } from "./ids.ts";
import { toMessage } from "./messages.repo.ts";
import type { MessageDoc } from "./mongo.ts";
import { ONE_BATCH } from "./reads.ts";

export interface DueOutbox {
  messageId: string;
  due: Date;
  message: Message;
  deliveries: PendingDelivery[];
}

export interface OutboxRepo {
  /** Messages whose deliveries are due at `now`, earliest first. */
  due(now: Date, limit: number): Promise<DueOutbox[]>;
  /** Takes the message's deliveries until `leaseUntil`; false when another process was first. */
  claim(item: DueOutbox, leaseUntil: Date): Promise<boolean>;
  /**
   * After an attempt: what is left (due again at `nextDue`) and what was given up. Only while our lease holds:
   * false when it no longer does (the lease ran out and the message was claimed again, or it is gone).
   */
  settle(messageId: string, leaseUntil: Date, left: PendingDelivery[], nextDue: Date | null, failed: FailedDelivery[]): Promise<boolean>;
}

export function createOutboxRepo(col: Collection<MessageDoc>): OutboxRepo {
  return {
    async due(now, limit) {
      const docs = await col.find({ webhook_due: { $lte: now } }, ONE_BATCH).sort({ webhook_due: 1 }).limit(limit).toArray();
      return docs.map((d) => ({ messageId: d._id.toHexString(), due: d.webhook_due!, message: toMessage(d), deliveries: d.webhooks ?? [] }));
    },
    async claim(item, leaseUntil) {
      const _id = parseId(item.messageId);
      if (!_id) return false;
      const r = await col.updateOne({ _id, webhook_due: item.due }, { $set: { webhook_due: leaseUntil } });
      return r.modifiedCount === 1;
    },
    async settle(messageId, leaseUntil, left, nextDue, failed) {
      const _id = parseId(messageId);
      if (!_id) return false;
      const update =
        left.length > 0 && nextDue
          ? { $set: { webhooks: left, webhook_due: nextDue } }
          : { $unset: { webhooks: "" as const, webhook_due: "" as const } };
      const r = await col.updateOne(
        { _id, webhook_due: leaseUntil },
        failed.length > 0 ? { ...update, $push: { webhook_failures: { $each: failed } } } : update,
      );
      return r.matchedCount === 1;
    },
  };
}
