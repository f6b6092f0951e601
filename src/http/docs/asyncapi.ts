/**
 * The AsyncAPI 3.0 document of the Socket.IO events, generated from the zod
 * schemas in domain/event-schemas.ts (the same ones the gateway validates
 * with and src/events.ts types). The document describes this server: client
 * events are operations it receives (their Socket.IO ack is the operation's
 * reply), server events are operations it sends, each saying who receives it.
 * @see https://www.asyncapi.com/docs/reference/specification/v3.0.0
 */
import { z } from "zod";
import { AckFailureSchema, clientEvents, serverEvents, type ClientEventSpec, type ServerEventSpec } from "../../domain/event-schemas.ts";
import { editMessageEventSchema, sendMessageSchema } from "../../domain/schemas.ts";
import { ERROR_STATUS } from "../../errors.ts";

type Json = Record<string, unknown>;

/** Draft-07 JSON Schema (AsyncAPI's schema format is a superset of it); client payloads as clients write them. */
function jsonSchema(schema: z.ZodType, io: "input" | "output"): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { target: "draft-7", io, unrepresentable: "any" }) as Json;
  return rest;
}

const ref = (path: string) => ({ $ref: `#/${path}` });

export interface AsyncApiOptions {
  version: string;
  /** host[:port] the document names as the server (the request's Host). */
  host: string;
  secure: boolean;
  /** MESSAGE_MAX_LENGTH, so the document states this server's cap. */
  messageMaxLength: number;
}

export function buildAsyncApiDocument(o: AsyncApiOptions): Json {
  const messages: Json = {};
  const ackMessages: Json = {};
  const operations: Json = {};

  for (const [event, catalogued] of Object.entries(clientEvents) as [string, ClientEventSpec][]) {
    // Message texts carry the configured length cap, not the catalogue's default.
    const capped = event === "send_message" ? sendMessageSchema(o.messageMaxLength) : event === "edit_message" ? editMessageEventSchema(o.messageMaxLength) : null;
    const spec = capped ? { ...catalogued, payload: capped } : catalogued;
    messages[event] = {
      name: event,
      title: event,
      summary: spec.summary,
      ...(spec.payload ? { payload: jsonSchema(spec.payload, "input") } : { description: "No payload: the event carries only the ack callback." }),
    };
    ackMessages[`${event}_ack`] = {
      name: `${event} ack`,
      summary: `The ack of ${event}: {ok: true, …} on success, {ok: false, error} on failure`,
      payload: { oneOf: [jsonSchema(spec.ack, "output"), ref("components/schemas/AckFailure")] },
    };
    operations[event] = {
      action: "receive",
      channel: ref("channels/chat"),
      summary: spec.summary,
      messages: [ref(`channels/chat/messages/${event}`)],
      reply: { channel: ref("channels/acks"), messages: [ref(`channels/acks/messages/${event}_ack`)] },
    };
  }
  for (const [event, spec] of Object.entries(serverEvents) as [string, ServerEventSpec][]) {
    messages[event] = { name: event, title: event, summary: spec.summary, description: `Receivers: ${spec.audience}.`, payload: jsonSchema(spec.payload, "output") };
    operations[event] = {
      action: "send",
      channel: ref("channels/chat"),
      summary: spec.summary,
      description: `Receivers: ${spec.audience}.`,
      messages: [ref(`channels/chat/messages/${event}`)],
    };
  }

  const errorCodes = Object.entries(ERROR_STATUS)
    .map(([code, status]) => `\`${code}\` (HTTP ${status})`)
    .join(", ");
  return {
    asyncapi: "3.0.0",
    info: {
      title: "Chat backend real-time events",
      version: o.version,
      description: [
        "Socket.IO v5 events (Engine.IO v4 over long-polling or WebSocket, path `/socket.io/`, namespace `/`).",
        "Authenticate in the handshake with `auth: {token}` (or `?token=`, or an `Authorization: Bearer` header): the `access_token` of `POST /api/auth/login`.",
        "A refused handshake gets CONNECT_ERROR `{message: \"unauthorized\", data: {code}}`.",
        "Every client event takes an optional ack callback, answered `{ok: true, …}` or `{ok: false, error: {code, message, details?}}`; a failure also emits `error` to that socket.",
        `Error codes (the same as REST): ${errorCodes}. \`RATE_LIMITED\` when a socket exceeds its per-10-second budget.`,
        "REST API: `/openapi.json`. TypeScript clients: `src/events.ts` (ServerToClientEvents, ClientToServerEvents).",
      ].join("\n\n"),
    },
    defaultContentType: "application/json",
    servers: {
      chat: {
        host: o.host,
        protocol: o.secure ? "wss" : "ws",
        pathname: "/socket.io/",
        description: "Socket.IO v5; clients may start on HTTP long-polling and upgrade to WebSocket",
        security: [ref("components/securitySchemes/handshakeToken")],
      },
    },
    channels: {
      chat: {
        address: "/",
        title: "Main namespace",
        description: "Every chat event flows on the Socket.IO main namespace of one connection.",
        messages,
      },
      acks: {
        address: null,
        title: "Acknowledgements",
        description: "The argument of the client's ack callback (Socket.IO ACK packet) for each client event.",
        messages: ackMessages,
      },
    },
    operations,
    components: {
      securitySchemes: {
        handshakeToken: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "Socket.IO `auth.token` in the CONNECT packet (preferred), `?token=` or `Authorization: Bearer <token>`.",
        },
      },
      schemas: {
        AckFailure: jsonSchema(AckFailureSchema, "output"),
      },
    },
  };
}
