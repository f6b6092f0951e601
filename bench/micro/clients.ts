/**
 * The clients of the broadcast micro-benchmark: raw Engine.IO v4 websockets that
 * speak just enough Socket.IO v5 (CONNECT, one acked `join`, pings) and count the
 * `m` broadcasts by sequence number. Far cheaper than socket.io-client, so the
 * same clients can load every server without becoming the bottleneck first.
 */

/** Opens a websocket session, connects "/" and resolves once `join` is acknowledged. */
export function member(base: string, room: string, onBroadcast: (seq: number) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
    const timer = setTimeout(() => reject(new Error("member did not join within 10 s")), 10_000);
    ws.onerror = () => reject(new Error("member websocket failed"));
    ws.onmessage = (e) => {
      const f = e.data as string;
      // `42["m",<seq>,…]` is by far the most frequent frame: test it first, parse only the number.
      if (f.startsWith('42["m",')) return onBroadcast(Number(f.slice(7, f.indexOf(",", 7))));
      if (f === "2") return ws.send("3");
      if (f.startsWith("0{")) return ws.send("40");
      if (f.startsWith("40{")) return ws.send(`421${JSON.stringify(["join", room])}`);
      if (f.startsWith("431")) {
        clearTimeout(timer);
        resolve(ws);
      }
    };
  });
}

/** A connected socket outside the room that asks the server for broadcasts. */
export function controller(base: string): Promise<{ go(room: string, seq: number): void; close(): void }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
    const timer = setTimeout(() => reject(new Error("controller did not connect within 10 s")), 10_000);
    ws.onerror = () => reject(new Error("controller websocket failed"));
    ws.onmessage = (e) => {
      const f = e.data as string;
      if (f === "2") return ws.send("3");
      if (f.startsWith("0{")) return ws.send("40");
      if (f.startsWith("40{")) {
        clearTimeout(timer);
        resolve({ go: (room, seq) => ws.send(`42${JSON.stringify(["go", room, seq])}`), close: () => ws.close() });
      }
    };
  });
}
