/**
 * Per-user budgets for client events, counted across all sockets of a user
 * (one RateLimiter per budget, keyed by email), so opening more sockets buys
 * no more sends. The limiters sit behind the RateLimiter interface: in-process
 * now, shared across processes in cluster mode.
 */
import { localRateLimiters, type RateDecision, type RateLimiter, type RateLimiterFactory } from "../limits/rate-limiter.ts";

export type Budget = "send" | "typing" | "read" | "join" | "presence" | "refresh" | "sync";

/** Budgets per 10 s window (RATE_<BUDGET>_PER_10S). */
export type BudgetLimits = Record<Budget, number>;

const WINDOW_MS = 10_000;

/** Which budget each client event spends. */
export const EVENT_BUDGET: Record<string, Budget> = {
  send_message: "send",
  // Changes to stored messages spend the send budget: each is a write fanned out to the members.
  edit_message: "send",
  delete_message: "send",
  add_reaction: "send",
  remove_reaction: "send",
  typing_start: "typing",
  typing_stop: "typing",
  mark_as_read: "read",
  join_conversation: "join",
  leave_conversation: "join",
  get_online_users: "presence",
  refresh_token: "refresh",
  sync: "sync",
};

export interface EventBudgets {
  /** Spends one unit of the event's budget for the user; null for events without a budget. */
  take(event: string, email: string): RateDecision | Promise<RateDecision> | null;
}

export function createEventBudgets(
  limits: BudgetLimits,
  make: RateLimiterFactory = localRateLimiters,
): EventBudgets {
  const limiters = Object.fromEntries(
    (Object.keys(limits) as Budget[]).map((b) => [b, make(`socket:${b}`, limits[b], WINDOW_MS)]),
  ) as Record<Budget, RateLimiter>;
  return {
    take(event, email) {
      const budget = EVENT_BUDGET[event];
      return budget === undefined ? null : limiters[budget].take(email);
    },
  };
}
