/**
 * Socket.IO v5 packet encoding and decoding, binary attachments included.
 * Wire form: `<type>[<attachments>-][<nsp>,][<ack id>][<JSON data>]`; each
 * binary value is replaced by `{"_placeholder":true,"num":i}` and sent after the
 * header as its own binary message.
 * @see https://github.com/socketio/socket.io/tree/main/docs/socket.io-protocol
 */
export const SioType = { CONNECT: 0, DISCONNECT: 1, EVENT: 2, ACK: 3, CONNECT_ERROR: 4, BINARY_EVENT: 5, BINARY_ACK: 6 } as const;
export type SioTypeCode = (typeof SioType)[keyof typeof SioType];

export interface SioPacket {
  type: SioTypeCode;
  nsp: string;
  id?: number;
  data?: unknown;
}

/** Names a client may not emit: they are the client's own lifecycle events. */
export const RESERVED_EVENTS = new Set(["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]);

const isBinary = (v: unknown): v is Uint8Array | ArrayBuffer | ArrayBufferView =>
  v instanceof ArrayBuffer || ArrayBuffer.isView(v);

export function hasBinary(v: unknown, depth = 0): boolean {
  if (depth > 64 || v === null || typeof v !== "object") return false;
  if (isBinary(v)) return true;
  if (Array.isArray(v)) return v.some((x) => hasBinary(x, depth + 1));
  if (typeof (v as { toJSON?: unknown }).toJSON === "function") return false;
  for (const k in v) if (Object.hasOwn(v, k) && hasBinary((v as Record<string, unknown>)[k], depth + 1)) return true;
  return false;
}

const toBytes = (v: Uint8Array | ArrayBuffer | ArrayBufferView): Uint8Array =>
  v instanceof Uint8Array ? v : v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

function deconstruct(v: unknown, out: Uint8Array[]): unknown {
  if (v === null || typeof v !== "object") return v;
  if (isBinary(v)) {
    out.push(toBytes(v));
    return { _placeholder: true, num: out.length - 1 };
  }
  if (Array.isArray(v)) return v.map((x) => deconstruct(x, out));
  if (typeof (v as { toJSON?: unknown }).toJSON === "function") return v;
  const o: Record<string, unknown> = {};
  for (const k in v) if (Object.hasOwn(v, k)) o[k] = deconstruct((v as Record<string, unknown>)[k], out);
  return o;
}

/** Encodes a packet into its text header plus binary attachments (each one Engine.IO message). */
export function encodePacket(p: SioPacket): [string, ...Uint8Array[]] {
  let type: SioTypeCode = p.type;
  let data = p.data;
  const attachments: Uint8Array[] = [];
  if ((type === SioType.EVENT || type === SioType.ACK) && hasBinary(data)) {
    type = type === SioType.EVENT ? SioType.BINARY_EVENT : SioType.BINARY_ACK;
    data = deconstruct(data, attachments);
  }
  let s = String(type);
  if (type === SioType.BINARY_EVENT || type === SioType.BINARY_ACK) s += `${attachments.length}-`;
  if (p.nsp !== "/") s += `${p.nsp},`;
  if (p.id !== undefined) s += p.id;
  if (data !== undefined) s += JSON.stringify(data);
  return [s, ...attachments];
}

export class ParseError extends Error {}

function validPayload(type: SioTypeCode, data: unknown): boolean {
  switch (type) {
    case SioType.CONNECT:
      return data === undefined || (typeof data === "object" && data !== null && !Array.isArray(data));
    case SioType.DISCONNECT:
      return data === undefined;
    case SioType.CONNECT_ERROR:
      return typeof data === "string" || (typeof data === "object" && data !== null);
    case SioType.EVENT:
    case SioType.BINARY_EVENT: {
      if (!Array.isArray(data) || data.length === 0) return false;
      const name = data[0];
      return typeof name === "number" || (typeof name === "string" && !RESERVED_EVENTS.has(name));
    }
    case SioType.ACK:
    case SioType.BINARY_ACK:
      return Array.isArray(data);
  }
}

/** Decodes a text packet header; throws ParseError. `attachments` > 0 means binary messages follow. */
export function decodeHeader(s: string, maxAttachments: number): { packet: SioPacket; attachments: number } {
  let i = 0;
  const type = s.charCodeAt(0) - 48;
  if (!(type >= 0 && type <= 6)) throw new ParseError("unknown packet type");
  i++;
  let attachments = 0;
  if (type === SioType.BINARY_EVENT || type === SioType.BINARY_ACK) {
    const dash = s.indexOf("-", i);
    const n = s.slice(i, dash);
    if (dash === -1 || !/^\d{1,4}$/.test(n)) throw new ParseError("illegal attachments");
    attachments = Number(n);
    if (attachments > maxAttachments) throw new ParseError("too many attachments");
    i = dash + 1;
  }
  let nsp = "/";
  if (s[i] === "/") {
    const comma = s.indexOf(",", i);
    const end = comma === -1 ? s.length : comma;
    nsp = s.slice(i, end);
    i = comma === -1 ? end : end + 1;
  }
  let id: number | undefined;
  const idStart = i;
  while (i < s.length && i - idStart < 16 && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
  if (i > idStart) id = Number(s.slice(idStart, i));
  let data: unknown;
  if (i < s.length) {
    try {
      data = JSON.parse(s.slice(i));
    } catch {
      throw new ParseError("invalid payload");
    }
  }
  if (!validPayload(type as SioTypeCode, data)) throw new ParseError("invalid payload");
  return { packet: { type: type as SioTypeCode, nsp, id, data }, attachments };
}

/** Puts the received binary attachments back where their placeholders are. */
export function reconstruct(v: unknown, buffers: Uint8Array[]): unknown {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map((x) => reconstruct(x, buffers));
  const o = v as Record<string, unknown>;
  if (o._placeholder === true) {
    const b = typeof o.num === "number" ? buffers[o.num] : undefined;
    if (!b) throw new ParseError("illegal attachment");
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  }
  for (const k in o) if (Object.hasOwn(o, k)) o[k] = reconstruct(o[k], buffers);
  return o;
}
