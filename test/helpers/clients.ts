/** socket.io-client helpers: connect as a user with the transports under test, and always clean up. */
import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import type { TestServer } from "./server.ts";
import { waitFor } from "./wait.ts";

export type TransportMode = "default" | "websocket";

export const TRANSPORT_MODES: TransportMode[] = ["default", "websocket"];

const open = new Set<Socket>();

export function clientOptions(mode: TransportMode): Partial<ManagerOptions & SocketOptions> {
  return mode === "websocket" ? { transports: ["websocket"] } : {};
}

/** Connects and waits for `connect`; rejects with the server's connect_error message otherwise. */
export async function connectAs(
  s: TestServer,
  token: string | undefined,
  mode: TransportMode = "default",
  extra: Partial<ManagerOptions & SocketOptions> = {},
): Promise<Socket> {
  const socket = io(s.url, { auth: token === undefined ? {} : { token }, reconnection: false, forceNew: true, ...clientOptions(mode), ...extra });
  open.add(socket);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out waiting for connect")), 5000);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once("connect_error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  return socket;
}

/** Waits until the client has upgraded to websocket (default mode starts on polling). */
export async function upgraded(socket: Socket): Promise<void> {
  const engine = socket.io.engine;
  if (engine.transport.name === "websocket") return;
  await waitFor(engine as never, "upgrade", 5000, "transport upgrade");
}

export function closeAllClients(): void {
  for (const s of open) s.disconnect();
  open.clear();
}

/** emit with an ack, failing clearly after a timeout. */
export function request<T = any>(socket: Socket, event: string, payload?: unknown, timeoutMs = 5000): Promise<T> {
  return socket.timeout(timeoutMs).emitWithAck(event, payload) as Promise<T>;
}
