/**
 * One application error type with a stable code; one table maps codes to HTTP
 * status. REST answers `{ error: { code, message, details? } }`; socket handlers
 * send the same code and message in `error` events and ack errors.
 */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 422,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  INVALID_API_KEY: 401,
  TOKEN_EXPIRED: 401,
  LOGIN_DISABLED: 403,
  USER_DISABLED: 403,
  ADMIN_API_DISABLED: 403,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  USER_NOT_FOUND: 404,
  CONVERSATION_NOT_FOUND: 404,
  MESSAGE_NOT_FOUND: 404,
  CANNOT_MESSAGE_SELF: 400,
  MESSAGE_TOO_LONG: 422,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  TOO_MANY_CONNECTIONS: 429,
  DATABASE_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "AppError";
  }

  get status(): (typeof ERROR_STATUS)[ErrorCode] {
    return ERROR_STATUS[this.code];
  }

  toJSON(): { code: ErrorCode; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

/** A MongoDB driver error meaning the database cannot be reached (REST 503, sockets DATABASE_UNAVAILABLE). */
/**
 * Whether a failure means "the database cannot be reached right now" (answered DATABASE_UNAVAILABLE, 503)
 * rather than a bug: the driver's connection errors, and errors that wrap one (a bulk write whose
 * connection was reset carries the network error as its cause or only in its message).
 */
export function isDatabaseUnavailable(e: unknown, depth = 0): boolean {
  if (!(e instanceof Error) || depth > 3) return false;
  if (/^Mongo(ServerSelection|Network|NotConnected|Topology|PoolCleared|ServerClosed|ClientClosed)/.test(e.name)) return true;
  const labeled = e as { hasErrorLabel?: (label: string) => boolean };
  if (typeof labeled.hasErrorLabel === "function" && (labeled.hasErrorLabel("NetworkError") || labeled.hasErrorLabel("ResetPool"))) return true;
  if (/^Mongo/.test(e.name) && /\b(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT)\b|connection .*closed/i.test(e.message)) return true;
  return isDatabaseUnavailable((e as { cause?: unknown }).cause, depth + 1);
}
