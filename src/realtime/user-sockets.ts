/**
 * Disconnecting every socket of a user, wherever it is connected (account removal, forced logout by an
 * administrator): this node's sockets at once, and in cluster mode the other nodes' through a message on the
 * cluster's control channel (src/cluster/cluster.ts wires `broadcast`). The socket gets `error {code}` first.
 */
import { userRoom } from "./chat-publisher.ts";
import type { SocketIOServer } from "./socketio/server.ts";

export interface UserSockets {
  /** Disconnects every socket of `email` on every node; resolves once this node's are closed and the others are told. */
  disconnectUserEverywhere(email: string, code?: string): Promise<void>;
  /** This node only (what a message from another node asks for). */
  disconnectLocal(email: string, code: string): number;
}

export function createUserSockets(io: SocketIOServer, broadcast: (email: string, code: string) => Promise<void> = async () => {}): UserSockets {
  const disconnectLocal = (email: string, code: string) => {
    const sockets = [...(io.of("/").adapter.members(userRoom(email)) ?? [])];
    for (const s of sockets) {
      s.emit("error", { message: "disconnected by the server", code });
      s.disconnect();
    }
    return sockets.length;
  };
  return {
    disconnectLocal,
    async disconnectUserEverywhere(email, code = "UNAUTHORIZED") {
      disconnectLocal(email, code);
      await broadcast(email, code);
    },
  };
}
