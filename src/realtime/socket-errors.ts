/**
 * How a failed socket event is reported: an `error` event to that socket plus the
 * ack error when the client asked for one. AppErrors keep their code; a database
 * outage is DATABASE_UNAVAILABLE (as REST's 503); anything else is logged and
 * answered INTERNAL. Rate-limit refusals carry `retry_after_ms`.
 */
import { AppError, isAppError, isDatabaseUnavailable } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { Socket } from "./socketio/socket.ts";

export type Ack = (response: unknown) => void;

export class RateLimitedError extends AppError {
  constructor(readonly retryAfterMs: number) {
    super("RATE_LIMITED", "rate limited");
  }
}

export function reportError(log: Logger, socket: Socket, event: string, err: unknown, ack?: Ack): void {
  let error: { code: string; message: string; details?: unknown; retry_after_ms?: number };
  if (err instanceof RateLimitedError) {
    error = { ...err.toJSON(), retry_after_ms: err.retryAfterMs };
  } else if (isAppError(err)) {
    error = err.toJSON();
  } else if (isDatabaseUnavailable(err)) {
    log.warn("database unavailable", { event, err });
    error = { code: "DATABASE_UNAVAILABLE", message: "database unavailable, try again later" };
  } else {
    log.error("socket handler failed", { event, err });
    error = { code: "INTERNAL", message: "internal server error" };
  }
  socket.emit("error", { ...error, event });
  ack?.({ ok: false, error });
}

/** Logs a rate-limit refusal once per user and budget per window, however many events a flood brings. */
export function createRateLimitAudit(log: Logger): (budget: string, email: string, retryAfterMs: number) => void {
  const audited = new Map<string, number>();
  return (budget, email, retryAfterMs) => {
    const key = `${budget}\u0000${email}`;
    const now = Date.now();
    if ((audited.get(key) ?? 0) > now) return;
    if (audited.size > 10_000) audited.clear();
    audited.set(key, now + retryAfterMs);
    log.warn("audit: rate limited", { budget, email, retry_after_ms: retryAfterMs });
  };
}
