/**
 * Engine.IO v4 packet encoding.
 * Text packets are `<type digit><data>`; over WebSocket a binary frame is a
 * message packet carrying raw bytes; over HTTP long-polling a binary packet is
 * `b<base64>` and packets of one payload are joined by the record separator.
 * @see https://github.com/socketio/socket.io/tree/main/docs/engine.io-protocol
 */
export const PacketType = { open: 0, close: 1, ping: 2, pong: 3, message: 4, upgrade: 5, noop: 6 } as const;
export type PacketTypeName = keyof typeof PacketType;

/** What travels inside a message packet. */
export type RawData = string | Uint8Array;

export type Packet =
  | { type: "message"; data: RawData }
  | { type: Exclude<PacketTypeName, "message">; data?: string };

const NAMES: PacketTypeName[] = ["open", "close", "ping", "pong", "message", "upgrade", "noop"];
export const SEPARATOR = "\x1e";

/** Encodes a text packet (or a message with string data) for either transport. */
export function encodeText(type: PacketTypeName, data = ""): string {
  return `${PacketType[type]}${data}`;
}

/** Encodes a packet for long-polling (binary as base64). */
export function encodePollingPacket(p: Packet): string {
  if (p.type === "message" && typeof p.data !== "string") return `b${Buffer.from(p.data).toString("base64")}`;
  return encodeText(p.type, (p.data as string | undefined) ?? "");
}

/**
 * A `b` packet's body. The official server decodes it with Node's `Buffer.from(s, "base64")`, which skips
 * ASCII whitespace (the Java client 2.x wraps lines at 76 characters and ends with `\n`) and also takes the
 * URL-safe alphabet. Anything else it would silently drop, corrupting the bytes: that we still refuse.
 * @see https://github.com/socketio/socket.io/blob/main/packages/engine.io-parser/lib/decodePacket.ts
 */
const BASE64 = /^[\t\n\v\f\r ]*(?:[A-Za-z0-9+/_-][\t\n\v\f\r ]*)*(?:=[\t\n\v\f\r ]*){0,2}$/;

/** Decodes one text packet; null when it is not a valid Engine.IO packet. */
export function decodeText(s: string): Packet | null {
  if (s.length === 0) return null;
  if (s.charCodeAt(0) === 98 /* b */) {
    const b64 = s.slice(1);
    if (!BASE64.test(b64)) return null;
    return { type: "message", data: new Uint8Array(Buffer.from(b64, "base64")) };
  }
  const code = s.charCodeAt(0) - 48;
  const name = NAMES[code];
  if (name === undefined) return null;
  return name === "message" ? { type: "message", data: s.slice(1) } : { type: name, data: s.slice(1) };
}

/** How many packets a polling payload holds, counted before anything is decoded. */
export function countPackets(body: string): number {
  let n = 1;
  for (let i = body.indexOf(SEPARATOR); i !== -1; i = body.indexOf(SEPARATOR, i + 1)) n++;
  return n;
}

/** Decodes a polling POST body; null when any packet in it is invalid. */
export function decodePayload(body: string): Packet[] | null {
  const out: Packet[] = [];
  for (const part of body.split(SEPARATOR)) {
    const p = decodeText(part);
    if (!p) return null;
    out.push(p);
  }
  return out;
}
