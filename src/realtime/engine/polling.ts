/**
 * HTTP long-polling transport: a GET is held until packets are queued (or a
 * ping is due), a POST carries client packets. Status codes and close rules
 * follow the official server.
 */
import type { Server } from "bun";
import { EngineError, errorResponse } from "./errors.ts";
import { countPackets, decodePayload } from "./parser.ts";
import type { EngineSession } from "./session.ts";

const TEXT = "text/plain; charset=UTF-8";

export interface PollingContext {
  headers: Record<string, string>;
  maxHttpBufferSize: number;
  /** Packets one POST may carry; more is treated like an oversized payload (413, session closed). */
  maxPacketsPerPayload: number;
}

const reply = (body: string, ctx: PollingContext, contentType = TEXT, status = 200) =>
  new Response(body, { status, headers: { ...ctx.headers, "Content-Type": contentType, "Cache-Control": "no-store" } });

export function handlePollingGet(
  session: EngineSession,
  req: Request,
  server: Server<unknown>,
  ctx: PollingContext,
): Response | Promise<Response> {
  if (session.transport !== "polling") return errorResponse(EngineError.BAD_REQUEST, ctx.headers);
  if (session.state === "closing") {
    const body = session.takeBuffer();
    session.finishPollingClose();
    return reply(body, ctx);
  }
  if (session.pendingGet) {
    // Two concurrent GETs: the official server answers the first with a close packet and fails the second.
    session.close("transport error");
    return errorResponse(EngineError.BAD_REQUEST, ctx.headers);
  }
  if (session.upgrading) return reply("6", ctx);
  if (session.hasBuffered()) return reply(session.takeBuffer(), ctx);

  server.timeout(req, 0); // held up to a ping interval: the request idle timeout must not cut it
  return new Promise<Response>((resolve) => {
    const release = (body: string) => resolve(reply(body, ctx));
    session.pendingGet = release;
    req.signal.addEventListener(
      "abort",
      () => {
        if (session.pendingGet === release) {
          session.pendingGet = null;
          session.close("transport close");
        }
      },
      { once: true },
    );
  });
}

export async function handlePollingPost(
  session: EngineSession,
  req: Request,
  server: Server<unknown>,
  ctx: PollingContext,
): Promise<Response> {
  if (session.transport !== "polling") return errorResponse(EngineError.BAD_REQUEST, ctx.headers);
  if (session.postActive) {
    session.close("transport error");
    return errorResponse(EngineError.BAD_REQUEST, ctx.headers);
  }
  if ((req.headers.get("content-type") ?? "").startsWith("application/octet-stream")) {
    // Engine.IO v4 sends binary as base64 in text payloads.
    session.close("transport error");
    return errorResponse(EngineError.BAD_REQUEST, ctx.headers);
  }
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > ctx.maxHttpBufferSize) return tooLarge(session, ctx);
  session.postActive = true;
  try {
    let body: string;
    try {
      const bytes = await req.arrayBuffer();
      if (bytes.byteLength > ctx.maxHttpBufferSize) return tooLarge(session, ctx);
      body = new TextDecoder().decode(bytes);
    } catch {
      session.close("transport error");
      return errorResponse(EngineError.BAD_REQUEST, ctx.headers);
    }
    // A cap on packets as well as bytes: 1 MB of tiny packets is tens of thousands of handler calls.
    if (countPackets(body) > ctx.maxPacketsPerPayload) return tooLarge(session, ctx);
    const packets = decodePayload(body);
    if (!packets) {
      session.close("parse error");
      return errorResponse(EngineError.BAD_REQUEST, ctx.headers);
    }
    for (const p of packets) {
      if (!session.onPacket(p)) {
        session.close("parse error");
        return errorResponse(EngineError.BAD_REQUEST, ctx.headers);
      }
    }
    if (!session.readingDone()) {
      // Backpressure: the layer above paused reading, so the client's next POST waits for this answer.
      server.timeout(req, 0);
      await session.whenReadingDone();
    }
    return reply("ok", ctx, "text/html");
  } finally {
    session.postActive = false;
  }
}

function tooLarge(session: EngineSession, ctx: PollingContext): Response {
  session.close("payload too large");
  return reply("payload too large", ctx, TEXT, 413);
}
