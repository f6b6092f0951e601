/** Soak parameters: the full run (10 minutes), `--quick` (about 60 s), and the test's lighter 60 s variant. */
export interface SoakParams {
  seconds: number;
  /** Users (an even number: user 2k chats with user 2k+1). */
  users: number;
  /** Every n-th user connects with `transports: ["websocket"]`; the others with socket.io-client's defaults. */
  websocketOnlyEvery: number;
  /** Mean time between two sends of one user (each waits for its ack, re-sending until acked). */
  sendIntervalMs: number;
  /** Each client's transport is closed (`socket.io.engine.close()`) every dropMinMs–dropMaxMs. */
  dropMinMs: number;
  dropMaxMs: number;
  /** When the server (SIGTERM, start again on the same port) and the database (SIGKILL) are restarted: fractions of the run. */
  serverRestartAt: number;
  dbKillAt: number;
  ackTimeoutMs: number;
  /** After the senders and the drops stop, before the final sync. */
  quietMs: number;
}

export const FULL: SoakParams = {
  seconds: 600, users: 40, websocketOnlyEvery: 8, sendIntervalMs: 2000, dropMinMs: 3000, dropMaxMs: 9000,
  serverRestartAt: 0.4, dbKillAt: 0.7, ackTimeoutMs: 5000, quietMs: 5000,
};

export const QUICK: SoakParams = { ...FULL, seconds: 60 };

/** The test suite's variant: same shape, lighter load, so the suite stays reliable on a busy 2-core machine. */
export const TEST: SoakParams = { ...FULL, seconds: 60, sendIntervalMs: 3000, dropMinMs: 4000, dropMaxMs: 10_000 };
