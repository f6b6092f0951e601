import { afterAll, expect, test } from "bun:test";
import { io } from "socket.io-client";
import { login } from "../../helpers/api.ts";
import { startTestServer, type TestServer } from "../../helpers/server.ts";
import { waitFor } from "../../helpers/wait.ts";

const servers: TestServer[] = [];
afterAll(async () => {
  await servers.at(-1)?.db.db.dropDatabase().catch(() => {});
  for (const s of servers) await s.stop();
});

test("after the server goes away and comes back, the client reconnects by itself and keeps working", async () => {
  const first = await startTestServer("reconnect");
  servers.push(first);
  const ada = await login(first, "ada@example.com", "Ada");
  const bob = await login(first, "bob@example.com", "Bob");
  const client = io(first.url, { auth: { token: ada.token }, reconnectionDelay: 100, reconnectionDelayMax: 200 });
  try {
    await waitFor(client, "connect");
    const dropped = waitFor(client, "disconnect");
    await first.stop();
    expect(await dropped).toBe("transport close");

    const second = await startTestServer("reconnect", { PORT: String(first.port), DATABASE_NAME: first.cfg.DATABASE_NAME });
    servers.push(second);
    await waitFor(client, "connect", 10_000, "automatic reconnection");
    const ack = await client.timeout(5000).emitWithAck("send_message", { to_email: bob.email, message: "back again" });
    expect(ack).toMatchObject({ ok: true, message: { message: "back again" } });
  } finally {
    client.disconnect();
  }
});
