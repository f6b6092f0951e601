/**
 * Messages from one socket are stored in emit order, also for a burst into a
 * conversation that does not exist yet (the first send creates it while the
 * next ones are already arriving; they used to overtake it).
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { api, login } from "../../helpers/api.ts";
import { closeAllClients, connectAs, TRANSPORT_MODES } from "../../helpers/clients.ts";
import { startTestServer, type TestServer } from "../../helpers/server.ts";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer("sendorder", { RATE_SEND_PER_10S: "100000", MESSAGES_PAGE_MAX: "1000" });
});
afterEach(closeAllClients);
afterAll(() => s.stopAndDrop());

const BURST = 200;
let n = 0;

for (const mode of TRANSPORT_MODES) {
  test(`a burst of ${BURST} emits into a new conversation is stored in emit order (${mode}, 3 rounds)`, async () => {
    for (let round = 0; round < 3; round++) {
      n++;
      const [ada, bob] = await Promise.all([login(s, `ada${n}@order.test`, "Ada"), login(s, `bob${n}@order.test`, "Bob")]);
      const sock = await connectAs(s, ada.token, mode);
      const acks = await Promise.all(
        Array.from({ length: BURST }, (_, i) =>
          sock.timeout(15_000).emitWithAck("send_message", { to_email: bob.email, message: `m${i}` }) as Promise<any>,
        ),
      );
      expect(acks.every((a) => a.ok)).toBe(true);
      const conversationId = acks[0].message.conversation_id;
      const page = await api(s, "GET", `/api/conversations/${conversationId}/messages?limit=${BURST}`, { token: bob.token });
      expect(page.status).toBe(200);
      expect(page.body.map((m: { message: string }) => m.message)).toEqual(Array.from({ length: BURST }, (_, i) => `m${i}`));
      expect(page.body.map((m: { seq: number }) => m.seq)).toEqual(Array.from({ length: BURST }, (_, i) => i + 1));
      sock.disconnect();
    }
  }, 60_000);
}
