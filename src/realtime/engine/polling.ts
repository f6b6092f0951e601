/**
 * HTTP long-polling transport: a GET is held until packets are queued (or a
 * ping is due), a POST carries client packets. Status codes and close rules
 * follow the official server.
 */
import type { Server } from "bun";
import { EngineError, errorResponse } from "./errors.ts";
import { decodePayload } from "./parser.ts";
import type { EngineSession } from "./session.ts";

const TEXT = "text/plain; charset=UTF-8";

export interface PollingContext {
  headers: Record<string, string>;
  maxHttpBufferSize: number;
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

export async function handlePollingPost(session: EngineSession, req: Request, ctx: PollingContext): Promise<Response> {
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
  if (declared > ctx.maxHttpBufferSize) {
    session.close("payload too large");
    return reply("payload too large", ctx, TEXT, 413);
  }
  session.postActive = true;
  let body: string;
  try {
    const bytes = await req.arrayBuffer();
    if (bytes.byteLength > ctx.maxHttpBufferSize) {
      session.close("payload too large");
      return reply("payload too large", ctx, TEXT, 413);
    }
    body = new TextDecoder().decode(bytes);
  } catch {
    session.close("transport error");
    return errorResponse(EngineError.BAD_REQUEST, ctx.headers);
  } finally {
    session.postActive = false;
  }
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
  return reply("ok", ctx, "text/html");
}
