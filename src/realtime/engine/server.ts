/**
 * Engine.IO v4 server for Bun.serve: routes requests under `path` to the
 * handshake, the polling transport or a websocket upgrade, keeps the session
 * map, and reports new sessions to the layer above.
 */
import type { Server } from "bun";
import { randomBytes } from "node:crypto";
import { EngineError, errorResponse } from "./errors.ts";
import { handlePollingGet, handlePollingPost } from "./polling.ts";
import { EngineSession, type EngineWs, type TransportName, type WsData } from "./session.ts";
import { createWebSocketHandler } from "./websocket.ts";

export interface EngineOptions {
  path: string;
  pingInterval: number;
  pingTimeout: number;
  upgradeTimeout: number;
  maxHttpBufferSize: number;
  /** Packets one polling POST may carry (413 and close beyond, like an oversized payload). */
  maxPacketsPerPayload: number;
  cors: { origins: string[] | "*"; credentials: boolean };
  /**
   * Origins allowed to open or use a session (handshake, polling, websocket upgrade); any other `Origin` gets
   * 403 (code 4). Requests without an Origin header (non-browser clients) and from our own origin pass.
   * Unset or "*": no check.
   */
  allowedOrigins?: string[] | "*";
  /** Return false to refuse a handshake with 403 (code 4, "Forbidden"). */
  allowRequest?: (req: Request) => boolean | Promise<boolean>;
}

export interface Handshake {
  headers: Record<string, string>;
  query: Record<string, string>;
  address: string;
  url: string;
  secure: boolean;
  issued: number;
}

export type EngineResult = Response | Promise<Response | undefined> | undefined | null;

export type ConnectionHandler = (session: EngineSession, handshake: Handshake) => void;

export class EngineServer {
  readonly sessions = new Map<string, EngineSession>();
  onConnection: ConnectionHandler = () => {};
  readonly websocket;
  /** Handshakes of direct websocket sessions, kept from upgrade() until the socket opens. */
  private readonly wsHandshakes = new WeakMap<WsData, Handshake>();

  constructor(readonly opts: EngineOptions) {
    this.websocket = createWebSocketHandler({
      maxPayload: opts.maxHttpBufferSize,
      openDirect: (ws) => this.openDirect(ws),
    });
  }

  get clientsCount(): number {
    return this.sessions.size;
  }

  /**
   * Null when the request is not under our path (the caller serves it);
   * undefined when it was upgraded to a websocket (Bun expects no response then).
   */
  handleRequest(req: Request, server: Server<unknown>): EngineResult {
    // A request without a Host header (an HTTP/1.0 health check) has no parsable absolute URL: use its path.
    const url = URL.parse(req.url) ?? URL.parse(req.url.replace(/^[a-z]+:\/\/[^/]*/i, ""), "http://localhost");
    if (!url) return null;
    if (url.pathname !== this.opts.path && `${url.pathname}/` !== this.opts.path) return null;
    const headers = this.corsHeaders(req);
    if (!this.originAllowed(req, url)) return errorResponse(EngineError.FORBIDDEN, headers);
    if (req.method === "OPTIONS") return new Response(null, { status: 204, headers: this.preflightHeaders(req, headers) });
    // Test clients that send `Connection: close` expect it echoed (node's http does; Bun only closes).
    if (req.headers.get("connection")?.toLowerCase() === "close") headers.Connection = "close";

    const q = url.searchParams;
    if (q.get("EIO") !== "4") return errorResponse(EngineError.UNSUPPORTED_PROTOCOL_VERSION, headers);
    const transport = q.get("transport");
    if (transport !== "polling" && transport !== "websocket") return errorResponse(EngineError.UNKNOWN_TRANSPORT, headers);
    const isUpgrade = req.headers.get("upgrade")?.toLowerCase() === "websocket";
    if (transport === "websocket" && !isUpgrade) return errorResponse(EngineError.BAD_REQUEST, headers);

    const sid = q.get("sid");
    if (sid === null) {
      if (req.method !== "GET") return errorResponse(EngineError.BAD_HANDSHAKE_METHOD, headers);
      const { allowRequest } = this.opts;
      if (!allowRequest) return this.handshake(req, url, server, transport, headers);
      return Promise.resolve(allowRequest(req)).then((ok) =>
        ok ? this.handshake(req, url, server, transport, headers) : errorResponse(EngineError.FORBIDDEN, headers),
      );
    }
    const session = this.sessions.get(sid);
    if (!session) return errorResponse(EngineError.UNKNOWN_SID, headers);
    const ctx = { headers, maxHttpBufferSize: this.opts.maxHttpBufferSize, maxPacketsPerPayload: this.opts.maxPacketsPerPayload };
    if (transport === "websocket") {
      // A second websocket for a session that upgraded (or is upgrading) is accepted and closed, as the official server does.
      const busy = session.transport !== "polling" || session.probe !== null || session.state !== "open";
      const data: WsData = { session: busy ? null : session, role: busy ? "reject" : "probe" };
      return server.upgrade(req, { data }) ? undefined : errorResponse(EngineError.BAD_REQUEST, headers);
    }
    if (req.method === "GET") return handlePollingGet(session, req, server, ctx);
    if (req.method === "POST") return handlePollingPost(session, req, server, ctx);
    return errorResponse(EngineError.BAD_REQUEST, headers);
  }

  private handshake(
    req: Request,
    url: URL,
    server: Server<unknown>,
    transport: TransportName,
    headers: Record<string, string>,
  ): Response | undefined {
    const hs = this.handshakeInfo(req, url, server);
    if (transport === "websocket") {
      const data: WsData = { session: null, role: "direct" };
      this.wsHandshakes.set(data, hs);
      return server.upgrade(req, { data }) ? undefined : errorResponse(EngineError.BAD_REQUEST, headers);
    }
    const session = this.createSession("polling");
    const body = `0${this.openPacket(session.id, ["websocket"])}`;
    this.onConnection(session, hs);
    return new Response(body, { headers: { ...headers, "Content-Type": "text/plain; charset=UTF-8", "Cache-Control": "no-store" } });
  }

  private openDirect(ws: EngineWs): void {
    const hs = this.wsHandshakes.get(ws.data);
    this.wsHandshakes.delete(ws.data);
    const session = this.createSession("websocket");
    session.ws = ws;
    ws.data.session = session;
    ws.send(`0${this.openPacket(session.id, [])}`);
    if (hs) this.onConnection(session, hs);
  }

  private createSession(transport: TransportName): EngineSession {
    const id = randomBytes(15).toString("base64url");
    const session = new EngineSession(id, transport, this.opts, (s) => this.sessions.delete(s.id));
    this.sessions.set(id, session);
    return session;
  }

  private openPacket(sid: string, upgrades: string[]): string {
    const { pingInterval, pingTimeout, maxHttpBufferSize } = this.opts;
    return JSON.stringify({ sid, upgrades, pingInterval, pingTimeout, maxPayload: maxHttpBufferSize });
  }

  private handshakeInfo(req: Request, url: URL, server: Server<unknown>): Handshake {
    const headers: Record<string, string> = {};
    req.headers.forEach((v, k) => {
      headers[k] = v;
    });
    return {
      headers,
      query: Object.fromEntries(url.searchParams),
      address: server.requestIP(req)?.address ?? "",
      url: url.pathname + url.search,
      secure: url.protocol === "https:",
      issued: Date.now(),
    };
  }

  /**
   * Browsers always send Origin, so a page on a foreign site cannot use a session (cross-site WebSocket hijacking).
   * Our own origin is never cross-site: pages we serve, and clients such as python's websocket-client that send
   * the server's origin by default, pass.
   */
  private originAllowed(req: Request, url: URL): boolean {
    const allowed = this.opts.allowedOrigins;
    if (allowed === undefined || allowed === "*") return true;
    const origin = req.headers.get("origin");
    return origin === null || origin === url.origin || allowed.includes(origin);
  }

  private corsHeaders(req: Request): Record<string, string> {
    const origin = req.headers.get("origin");
    const { origins, credentials } = this.opts.cors;
    if (!origin) return {};
    if (origins === "*") return { "Access-Control-Allow-Origin": "*" };
    if (!origins.includes(origin)) return {};
    const h: Record<string, string> = { "Access-Control-Allow-Origin": origin, Vary: "Origin" };
    if (credentials) h["Access-Control-Allow-Credentials"] = "true";
    return h;
  }

  private preflightHeaders(req: Request, base: Record<string, string>): Record<string, string> {
    if (!base["Access-Control-Allow-Origin"]) return base;
    return {
      ...base,
      "Access-Control-Allow-Methods": "GET,HEAD,PUT,PATCH,POST,DELETE",
      "Access-Control-Allow-Headers": req.headers.get("access-control-request-headers") ?? "content-type",
      "Access-Control-Max-Age": "600",
    };
  }

  /**
   * Closes every session (server shutting down). Each client is sent a close packet; a polling
   * client between two GETs gets it on its next GET, so wait up to `graceMs` for those before
   * dropping the rest (else they would see a transport error instead of a clean close).
   */
  async close(graceMs = 1000): Promise<void> {
    for (const s of [...this.sessions.values()]) s.close("server shutting down", true);
    const deadline = Date.now() + graceMs;
    while (this.sessions.size > 0 && Date.now() < deadline) await Bun.sleep(10);
    for (const s of [...this.sessions.values()]) s.close("server shutting down");
  }
}
