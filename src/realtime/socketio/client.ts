/**
 * One Engine.IO session seen by Socket.IO: decodes packets (collecting binary
 * attachments), connects namespaces through their middlewares, routes packets
 * to sockets, and closes the session on anything malformed ("parse error").
 */
import { randomBytes } from "node:crypto";
import type { CloseReason } from "../engine/errors.ts";
import type { RawData } from "../engine/parser.ts";
import type { Handshake } from "../engine/server.ts";
import type { EngineSession, SessionListener } from "../engine/session.ts";
import type { Namespace } from "./namespace.ts";
import { decodeHeader, encodePacket, ParseError, reconstruct, SioType, type SioPacket } from "./parser.ts";
import type { PersistedSession } from "./recovery.ts";
import { collectRemote, takeRemote, type RemoteSession } from "./remote-resume.ts";
import { Socket, type HandlerFlow } from "./socket.ts";

export interface ClientContext {
  namespace(name: string): Namespace | undefined;
  connectTimeout: number;
  maxAttachments: number;
  maxHandlersInFlight: number;
  onError(err: unknown, event: string): void;
}

export class Client implements SessionListener {
  private readonly sockets = new Map<string, Socket>();
  /** Namespaces whose CONNECT is going through middlewares (allocated on first use: most clients are idle). */
  private connecting: Set<string> | undefined;
  private pending: { packet: SioPacket; expected: number; buffers: Uint8Array[] } | null = null;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  /** Sockets at their bound of handler calls in flight: while any is, the session is not read. */
  private saturated: Set<Socket> | undefined;
  private readonly flow: HandlerFlow;

  constructor(
    private readonly session: EngineSession,
    private readonly handshake: Handshake,
    private readonly ctx: ClientContext,
  ) {
    session.listener = this;
    this.flow = {
      max: ctx.maxHandlersInFlight,
      saturated: (s, on) => {
        if (on) {
          (this.saturated ??= new Set()).add(s);
          session.pauseReading();
        } else if (this.saturated?.delete(s) && this.saturated.size === 0) {
          session.resumeReading();
        }
      },
    };
    this.connectTimer = setTimeout(() => {
      if (this.sockets.size === 0) session.close("forced close", true);
    }, ctx.connectTimeout);
  }

  onMessage(data: RawData): void {
    try {
      if (typeof data !== "string") return this.onAttachment(data);
      if (this.pending) throw new ParseError("text packet while waiting for attachments");
      const { packet, attachments } = decodeHeader(data, this.ctx.maxAttachments);
      if (attachments > 0) this.pending = { packet, expected: attachments, buffers: [] };
      else this.onPacket(packet);
    } catch (err) {
      if (!(err instanceof ParseError)) this.ctx.onError(err, "packet");
      this.session.close("parse error");
    }
  }

  private onAttachment(data: Uint8Array): void {
    const p = this.pending;
    if (!p) throw new ParseError("unexpected binary message");
    p.buffers.push(data);
    if (p.buffers.length < p.expected) return;
    this.pending = null;
    p.packet.data = reconstruct(p.packet.data, p.buffers);
    this.onPacket(p.packet);
  }

  private onPacket(p: SioPacket): void {
    if (p.type === SioType.CONNECT) return void this.connect(p.nsp, p.data);
    const socket = this.sockets.get(p.nsp);
    if (!socket) {
      // A packet for a namespace the client did not join (or not yet).
      if (this.connecting?.has(p.nsp)) return;
      throw new ParseError("packet for an unknown namespace");
    }
    switch (p.type) {
      case SioType.EVENT:
      case SioType.BINARY_EVENT:
        socket.dispatchEvent(p.data as unknown[], p.id);
        return;
      case SioType.ACK:
      case SioType.BINARY_ACK:
        socket.dispatchAck(p.id, p.data as unknown[]);
        return;
      case SioType.DISCONNECT:
        socket.onclose("client namespace disconnect");
        return;
      default:
        throw new ParseError("unexpected packet type from a client");
    }
  }

  private async connect(name: string, auth: unknown): Promise<void> {
    const nsp = this.ctx.namespace(name);
    if (!nsp) {
      this.write({ type: SioType.CONNECT_ERROR, nsp: name, data: { message: "Invalid namespace" } });
      return;
    }
    if (this.sockets.has(name) || this.connecting?.has(name)) return;
    clearTimeout(this.connectTimer);
    (this.connecting ??= new Set()).add(name);
    const authData = (auth ?? {}) as Record<string, unknown>;
    const log = nsp.recovery;
    // @see https://github.com/socketio/socket.io/blob/main/docs/socket.io-protocol/v5-current.md#connection-state-recovery
    const pid = log && typeof authData.pid === "string" ? authData.pid : undefined;
    // Back on a new transport before the old one was seen to die (a network change): that one is dead, end it now.
    const stale = pid === undefined ? undefined : nsp.socketByPid(pid);
    if (stale && stale.session !== this.session) stale.session.close("transport close");
    let previous = pid === undefined ? null : log!.take(pid);
    // Cluster mode: a session this process does not have may have been served by another one (that died).
    let remote: RemoteSession | null = null;
    if (pid !== undefined && nsp.replay) {
      if (previous) nsp.replay.drop(pid);
      else if ((remote = await takeRemote(nsp, pid))) previous = remote.session;
    }
    const socket = this.createSocket(nsp, authData, previous);
    const err = previous && !remote && log!.opts.skipMiddlewares ? undefined : await nsp.runMiddlewares(socket);
    const remoteMissed = remote && !err ? await collectRemote(nsp, remote, authData.offset) : null;
    this.connecting?.delete(name);
    if (this.connecting?.size === 0) this.connecting = undefined;
    if (this.session.state !== "open") return;
    if (err) {
      const data = err.data === undefined ? { message: err.message } : { message: err.message, data: err.data };
      this.write({ type: SioType.CONNECT_ERROR, nsp: name, data });
      return;
    }
    // Computed in the same tick as the joins: a broadcast is either replayed or delivered live, never both or neither.
    const missed = remote ? remoteMissed : previous ? log!.missed(previous, authData.offset) : null;
    // The log no longer covers what this session missed: a normal new connection, as when the session expired.
    if (previous && !missed) return this.connect(name, auth);
    this.sockets.set(name, socket);
    this.write({ type: SioType.CONNECT, nsp: name, data: socket.pid ? { sid: socket.id, pid: socket.pid } : { sid: socket.id } });
    nsp.connected(socket, previous && missed ? { rooms: previous.rooms, fromCluster: previous.sinceCluster, ...missed } : undefined);
  }

  private createSocket(nsp: Namespace, auth: Record<string, unknown>, previous: PersistedSession | null): Socket {
    const hs = this.handshake;
    const socket = new Socket(
      previous?.sid ?? randomBytes(15).toString("base64url"),
      nsp,
      this.session,
      {
        auth,
        query: hs.query,
        headers: hs.headers,
        address: hs.address,
        time: new Date(hs.issued).toString(),
        issued: hs.issued,
        url: hs.url,
        secure: hs.secure,
      },
      this.ctx.onError,
      (s) => {
        this.sockets.delete(s.nsp.name);
        nsp.detach(s);
      },
      this.flow,
      nsp.recovery ? { pid: previous?.pid ?? randomBytes(15).toString("base64url"), recovered: previous !== null } : undefined,
    );
    if (previous) socket.data = previous.data;
    return socket;
  }

  private write(p: SioPacket): void {
    for (const f of encodePacket(p)) this.session.send(f);
  }

  onHeartbeat(phase: "ping" | "pong"): void {
    for (const s of this.sockets.values()) s.heartbeat(phase);
  }

  onUpgrade(): void {
    for (const s of this.sockets.values()) s.nsp.adapter.upgraded(s);
  }

  onClose(reason: CloseReason): void {
    clearTimeout(this.connectTimer);
    this.pending = null;
    for (const s of [...this.sockets.values()]) s.onclose(reason === "forced close" ? "forced close" : reason);
    this.sockets.clear();
  }
}
