/**
 * WebSocket transport on Bun's native websocket: one Engine.IO packet per
 * frame, binary frames are message packets with raw bytes. Handles direct
 * websocket sessions and the probe of a polling session that upgrades.
 */
import type { WebSocketHandler } from "bun";
import { decodeText } from "./parser.ts";
import type { EngineWs, WsData } from "./session.ts";

export interface WebSocketHooks {
  /** A direct websocket session opened: send the open packet. */
  openDirect(ws: EngineWs): void;
  maxPayload: number;
}

export function createWebSocketHandler(hooks: WebSocketHooks): WebSocketHandler<WsData> {
  return {
    // Liveness is the Engine.IO heartbeat's job; Bun's own idle pings would only add traffic.
    idleTimeout: 0,
    sendPings: false,
    maxPayloadLength: hooks.maxPayload,
    // A client that cannot keep up is disconnected rather than silently losing messages.
    closeOnBackpressureLimit: true,
    perMessageDeflate: false,
    open(ws) {
      if (ws.data.role === "reject") {
        ws.close();
        return;
      }
      if (ws.data.role === "direct") hooks.openDirect(ws);
      else ws.data.session?.startProbe(ws);
    },
    message(ws, message) {
      const session = ws.data.session;
      if (!session) return;
      const isProbe = session.probe === ws;
      if (typeof message !== "string") {
        if (isProbe) return ws.close();
        session.onPacket({ type: "message", data: message });
        return;
      }
      if (isProbe) {
        if (message === "2probe") session.probed(ws);
        else if (message === "5" && session.upgrading) session.upgraded(ws);
        else ws.close();
        return;
      }
      if (session.ws !== ws) return;
      const packet = decodeText(message);
      if (!packet || !session.onPacket(packet)) session.close("parse error");
    },
    close(ws) {
      const session = ws.data.session;
      if (!session) return;
      if (session.probe === ws) session.probeClosed(ws);
      else if (session.ws === ws) session.close("transport close");
    },
  };
}
