/**
 * Optional hooks a host (metrics) passes in to watch the Socket.IO layer; the
 * layer knows nothing of what records them. Called on hot paths, so an
 * implementation must only bump counters it already holds (no allocation).
 */
import type { DisconnectReason } from "./socket.ts";

export interface SocketIOObserver {
  /** A socket passed the middlewares and is connected. */
  connected(): void;
  disconnected(reason: DisconnectReason): void;
  /** A client event arrived (any name the client chose: bound the label set yourself). */
  eventReceived(event: string): void;
  /** An event went out: once per emit to a socket, and once per broadcast whatever its number of receivers. */
  eventEmitted(event: string): void;
}

const noop = () => {};
export const NO_OBSERVER: SocketIOObserver = { connected: noop, disconnected: noop, eventReceived: noop, eventEmitted: noop };
