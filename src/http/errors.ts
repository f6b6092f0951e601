/**
 * Turns every failure into the one documented error shape:
 * `{ error: { code, message, details? } }`. AppError keeps its code; Hono's
 * HTTPException (malformed JSON, body limit) maps by status; anything else is
 * logged and answered with a generic 500 that reveals nothing.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";
import { issuesOf } from "../domain/schemas.ts";
import { AppError, isDatabaseUnavailable, type ErrorCode } from "../errors.ts";
import type { Logger } from "../logger.ts";

export function errorBody(code: ErrorCode | string, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

const codeForStatus = (status: number): ErrorCode =>
  status === 401 ? "UNAUTHORIZED" : status === 403 ? "FORBIDDEN" : status === 404 ? "NOT_FOUND" : status === 413 ? "PAYLOAD_TOO_LARGE" : "BAD_REQUEST";

export function createErrorHandler(log: Logger) {
  return (err: Error, c: Context): Response => {
    if (err instanceof AppError) {
      return c.json(errorBody(err.code, err.message, err.details), err.status as ContentfulStatusCode);
    }
    if (err instanceof HTTPException && err.status < 500) {
      const message = err.status === 400 && /JSON/i.test(err.message) ? "malformed JSON body" : err.message || "bad request";
      return c.json(errorBody(codeForStatus(err.status), message), err.status as ContentfulStatusCode);
    }
    if (isDatabaseUnavailable(err)) {
      log.warn("database unavailable", { req_id: c.get("requestId"), path: c.req.path, err });
      return c.json(errorBody("DATABASE_UNAVAILABLE", "database unavailable, try again later"), 503);
    }
    log.error("unhandled error", { req_id: c.get("requestId"), method: c.req.method, path: c.req.path, err });
    return c.json(errorBody("INTERNAL", "internal server error"), 500);
  };
}

/** The OpenAPI routes' validation hook: every failed validation becomes a 422 in the common shape. */
export function validationHook(result: { success: boolean; error?: unknown }, c: Context): Response | undefined {
  if (result.success) return undefined;
  return c.json(errorBody("VALIDATION_FAILED", "request validation failed", issuesOf(result.error as ZodError)), 422);
}
