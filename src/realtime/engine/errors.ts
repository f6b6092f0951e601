/**
 * Engine.IO handshake/request errors, with the codes and messages of the
 * official server (engine.io `Server.errors` / `errorMessages`).
 */
export const EngineError = {
  UNKNOWN_TRANSPORT: 0,
  UNKNOWN_SID: 1,
  BAD_HANDSHAKE_METHOD: 2,
  BAD_REQUEST: 3,
  FORBIDDEN: 4,
  UNSUPPORTED_PROTOCOL_VERSION: 5,
} as const;

export type EngineErrorCode = (typeof EngineError)[keyof typeof EngineError];

const MESSAGES: Record<EngineErrorCode, string> = {
  0: "Transport unknown",
  1: "Session ID unknown",
  2: "Bad handshake method",
  3: "Bad request",
  4: "Forbidden",
  5: "Unsupported protocol version",
};

export function errorResponse(code: EngineErrorCode, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ code, message: MESSAGES[code] }), {
    status: code === EngineError.FORBIDDEN ? 403 : 400,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

export type CloseReason =
  | "transport close"
  | "transport error"
  | "ping timeout"
  | "parse error"
  | "forced close"
  | "server shutting down"
  | "payload too large";
