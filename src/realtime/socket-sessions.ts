/**
 * A socket never outlives its token: `token_expiring {expires_at}` before the
 * token expires, `refresh_token {token}` swaps in a fresh token of the same
 * user, and at expiry (or when the token is revoked by a logout) the socket gets
 * `error {code}` and a server-side disconnect, which socket.io-client does not
 * retry by itself. Works the same on websocket and polling (the packets wait in
 * the session's buffer for the next GET).
 */
import { z } from "zod";
import type { Authenticator } from "../auth/identity.ts";
import { disabledUserKey, type RevocationStore } from "../auth/revocations.ts";
import { AppError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { userRoom } from "./chat-publisher.ts";
import { SessionExpiry, type ExpiringSession } from "./session-expiry.ts";
import type { Namespace } from "./socketio/namespace.ts";
import type { Socket } from "./socketio/socket.ts";

/** What the gateway keeps per socket (in socket.data.user). */
export interface SocketUser extends ExpiringSession {
  email: string;
  name: string;
  jti: string;
  socket: Socket;
}

const RefreshSchema = z.object({ token: z.string().min(1).max(4096) });

export interface SocketSessions {
  start(user: SocketUser): void;
  end(user: SocketUser): void;
  refresh(user: SocketUser, payload: unknown): Promise<{ expires_at: string }>;
  close(): void;
}

export function createSocketSessions(o: {
  nsp: Namespace;
  auth: Authenticator;
  revocations: RevocationStore;
  warnBeforeMs: number;
  log: Logger;
}): SocketSessions {
  const terminate = (u: SocketUser, code: "TOKEN_EXPIRED" | "UNAUTHORIZED" | "USER_DISABLED", message: string) => {
    o.log.debug("socket session ended", { sid: u.socket.id, email: u.email, code });
    u.socket.emit("error", { message, code });
    u.socket.disconnect();
  };
  const wheel = new SessionExpiry<SocketUser>(o.warnBeforeMs, {
    warn: (u) => u.socket.emit("token_expiring", { expires_at: new Date(u.expiresAt).toISOString() }),
    expire: (u) => terminate(u, "TOKEN_EXPIRED", "token expired"),
  });
  o.revocations.onRevoked((jti, email) => {
    // A disabled user (admin API) loses every socket; a logout only the sockets of that token.
    const wholeUser = jti === disabledUserKey(email);
    for (const s of [...(o.nsp.adapter.members(userRoom(email)) ?? [])]) {
      const u = s.data.user as SocketUser | undefined;
      if (!u) continue;
      if (wholeUser) terminate(u, "USER_DISABLED", "user is disabled");
      else if (u.jti === jti) terminate(u, "UNAUTHORIZED", "token revoked");
    }
  });
  return {
    start: (u) => wheel.track(u),
    end: (u) => wheel.untrack(u),
    async refresh(u, payload) {
      const r = RefreshSchema.safeParse(payload);
      if (!r.success) throw new AppError("VALIDATION_FAILED", "invalid payload", [{ path: "token", message: "a token is required" }]);
      const identity = await o.auth.verify(r.data.token);
      if (identity.email !== u.email) throw new AppError("FORBIDDEN", "the token belongs to another user");
      u.jti = identity.jti;
      u.expiresAt = identity.expiresAt;
      u.warned = false;
      wheel.track(u);
      return { expires_at: new Date(u.expiresAt).toISOString() };
    },
    close: () => wheel.close(),
  };
}
