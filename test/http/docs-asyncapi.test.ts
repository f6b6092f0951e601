/**
 * /asyncapi.json: a valid AsyncAPI 3.0 document (checked by @asyncapi/parser,
 * with its recommended rules) that lists every event the gateway handles and
 * the publisher emits, with payloads, acks, receivers, auth and error codes.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Parser } from "@asyncapi/parser";
// First: @hono/zod-openapi must extend zod before the domain schemas are built (zod 4 adds methods per instance).
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { clientEvents, serverEvents } from "../../src/domain/event-schemas.ts";
import { ERROR_STATUS } from "../../src/errors.ts";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer("asyncapi", { MESSAGE_MAX_LENGTH: "500" });
});
afterAll(() => s.stopAndDrop());

async function fetchDoc() {
  const res = await fetch(`${s.url}/asyncapi.json`);
  expect(res.status).toBe(200);
  return (await res.json()) as any;
}

test("the document parses and validates as AsyncAPI 3.0 with no errors or warnings of substance", async () => {
  const raw = await fetchDoc();
  const { document, diagnostics } = await new Parser().parse(JSON.stringify(raw));
  // Severity 0 = error, 1 = warning. The only warning allowed is the parser's note that 3.1 exists.
  const serious = diagnostics.filter((d) => d.severity <= 1 && !String(d.message).includes("latest version of AsyncAPi"));
  expect(serious.map((d) => `${d.path.join(".")}: ${d.message}`)).toEqual([]);
  expect(document).toBeDefined();
  expect(document!.version()).toBe("3.0.0");

  const ops = new Map(document!.operations().all().map((op) => [op.id(), op] as const));
  for (const event of Object.keys(clientEvents)) {
    const op = ops.get(event);
    expect(op?.action()).toBe("receive");
    expect(op?.reply()?.messages().length).toBe(1);
  }
  for (const event of Object.keys(serverEvents)) {
    expect(ops.get(event)?.action()).toBe("send");
    expect(ops.get(event)?.description()).toContain("Receivers:");
  }
  expect(document!.servers().all()[0]?.security().length).toBe(1);
});

test("payloads come from the zod schemas: required fields, enums and the ack shapes", async () => {
  const doc = await fetchDoc();
  const send = doc.channels.chat.messages.send_message.payload;
  // Either to_email or conversation_id (the schema's refinement says which; both or neither is refused).
  expect(send.required).toEqual(["message"]);
  expect(Object.keys(send.properties)).toEqual(expect.arrayContaining(["to_email", "conversation_id"]));
  expect(send.properties.message.maxLength).toBe(500); // the configured cap, not the default
  expect(send.properties.message_type.enum).toEqual(["text", "image", "file", "audio", "video"]);
  for (const event of ["conversation_created", "conversation_updated", "conversation_removed", "message_edited", "message_deleted", "reaction_updated", "edit_message", "delete_message", "add_reaction", "remove_reaction"]) {
    expect(doc.channels.chat.messages[event]).toBeDefined();
  }
  expect(doc.channels.chat.messages.edit_message.payload.properties.message.maxLength).toBe(500);
  const newMessage = doc.channels.chat.messages.new_message.payload;
  expect(Object.keys(newMessage.properties).sort()).toEqual(
    ["client_id", "conversation_id", "deleted", "edited", "edited_at", "id", "message", "message_type", "reactions", "reply_to", "sender_email", "sender_name", "seq", "timestamp"],
  );
  expect(newMessage.additionalProperties).toBe(false);
  const sendAck = doc.channels.acks.messages.send_message_ack.payload.oneOf[0];
  expect(sendAck.required).toEqual(["ok", "message", "duplicate"]);
  expect(doc.channels.chat.messages.get_online_users.payload).toBeUndefined();
  for (const code of Object.keys(ERROR_STATUS)) expect(doc.info.description).toContain(code);
  expect(doc.channels.chat.messages.error.payload.properties.code.enum).toEqual(Object.keys(ERROR_STATUS));
  expect(doc.components.securitySchemes.handshakeToken.scheme).toBe("bearer");
});
