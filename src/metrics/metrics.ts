/**
 * The server's Prometheus metrics, one registry per server (tests run several
 * in one process) plus the process-wide default metrics (memory, CPU,
 * event-loop lag). Each part of the server records through a small observer
 * made here, so the protocol layer, the gateway and the database layer never
 * import prom-client.
 */
import type { ListCacheStats } from "../db/conversation-list-cache.ts";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { BusStats } from "../cluster/redis-bus.ts";
import { clientEvents } from "../domain/event-schemas.ts";
import type { ChatPublisher } from "../domain/ports.ts";
import type { GatewayObserver } from "../realtime/chat-gateway.ts";
import type { SocketIOObserver } from "../realtime/socketio/observer.ts";
import { cellCounter, type Cell } from "./cells.ts";

/** Latency buckets in seconds, 0.5 ms to 10 s. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

let processRegistry: Registry | undefined;
/** Process metrics are the process's, whatever the number of servers in it: collected once. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export interface Metrics {
  readonly contentType: string;
  /** For the embedded-database supervisor: one increment per restart it performs. */
  readonly embeddedDbRestarts: { inc(): void };
  readonly socketio: SocketIOObserver;
  readonly gateway: GatewayObserver;
  /** Cluster mode: where the bus gauges read the Redis bus's counters, at scrape time only. */
  watchClusterBus(stats: () => BusStats): void;
  /** Where the conversation-list cache gauges read its counters, at scrape time only. */
  watchListCache(stats: () => ListCacheStats): void;
  /** Where the connected-sockets gauge reads the open sessions, at scrape time only. */
  watchSessions(sessions: () => Iterable<{ transport: string }>): void;
  /** Wraps the chat publisher to time store and delivery of each new message. */
  instrumentPublisher(p: ChatPublisher): ChatPublisher;
  /** Told each database command's duration and outcome (src/db/timed-collection.ts). */
  observeDbCommand(command: string, seconds: number, failed: boolean): void;
  render(): Promise<string>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];

  let sessions: (() => Iterable<{ transport: string }>) | undefined;
  new Gauge({
    name: "chat_connected_sockets",
    help: "Open Engine.IO sessions (one per connected client) by current transport",
    labelNames: ["transport"],
    registers,
    collect() {
      const counts: Record<string, number> = { polling: 0, websocket: 0 };
      for (const s of sessions?.() ?? []) counts[s.transport] = (counts[s.transport] ?? 0) + 1;
      for (const [transport, n] of Object.entries(counts)) this.set({ transport }, n);
    },
  });
  let bus: (() => BusStats) | undefined;
  const busGauge = (name: string, help: string, read: (b: BusStats) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const b = bus?.();
        if (b) this.set(read(b));
      },
    });
  busGauge("chat_cluster_bus_received_bytes", "Cluster mode: bytes of broadcasts received from Redis since start", (b) => b.receivedBytes);
  busGauge("chat_cluster_bus_received_messages", "Cluster mode: broadcasts received from Redis since start", (b) => b.received);
  busGauge("chat_cluster_bus_published_bytes", "Cluster mode: bytes of broadcasts published to Redis since start", (b) => b.publishedBytes);
  busGauge("chat_cluster_bus_channels", "Cluster mode: Redis channels subscribed (rooms with members on this node)", (b) => b.channels);
  let listCache: (() => ListCacheStats) | undefined;
  const listCacheCounter = (name: string, help: string, read: (s: ListCacheStats) => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        const s = listCache?.();
        this.reset();
        if (s) this.inc(read(s));
      },
    });
  listCacheCounter("chat_list_cache_hits_total", "Conversation lists answered from the per-process cache", (s) => s.hits);
  listCacheCounter("chat_list_cache_misses_total", "Conversation lists read from the database", (s) => s.misses);
  new Gauge({
    name: "chat_list_cache_items",
    help: "Conversations held by the conversation-list cache (summed over users)",
    registers,
    collect() {
      const s = listCache?.();
      if (s) this.set(s.items);
    },
  });
  const connections: Cell = { n: 0 };
  new Counter({
    name: "chat_socket_connections_total",
    help: "Sockets that passed authentication and connected",
    registers,
    collect() {
      this.reset();
      this.inc(connections.n);
    },
  });
  const disconnects = cellCounter(registry, "chat_socket_disconnects_total", "Socket disconnections by reason", "reason");
  const received = cellCounter(registry, "chat_socket_events_received_total", "Client events received, by name (unknown names as other)", "event");
  const emitted = cellCounter(registry, "chat_socket_events_emitted_total", "Events emitted: once per emit to a socket, once per broadcast", "event");
  // A client may send any event name: only ours get a label of their own.
  const known = new Set(Object.keys(clientEvents));
  const other = received.cell("other");

  const handled = new Histogram({ name: "chat_event_duration_seconds", help: "Client event received to ack, by event", labelNames: ["event"], buckets: BUCKETS, registers });
  const failed = new Counter({ name: "chat_event_errors_total", help: "Client events that failed, by event and error code", labelNames: ["event", "code"], registers });
  const limited = new Counter({ name: "chat_rate_limited_total", help: "Client events refused by a rate limit, by event", labelNames: ["event"], registers });
  const stored = new Histogram({ name: "chat_message_stored_seconds", help: "Message accepted (its timestamp) to stored", buckets: BUCKETS, registers });
  const delivered = new Histogram({ name: "chat_message_delivered_seconds", help: "Message accepted to handed to every recipient socket", buckets: BUCKETS, registers });
  const dbDuration = new Histogram({ name: "chat_db_command_duration_seconds", help: "Database command latency by command", labelNames: ["command"], buckets: BUCKETS, registers });
  const dbErrors = new Counter({ name: "chat_db_command_errors_total", help: "Database commands that failed, by command", labelNames: ["command"], registers });
  const restarts = new Counter({ name: "chat_embedded_db_restarts_total", help: "Restarts of the embedded database by its supervisor", registers });

  return {
    contentType: registry.contentType,
    embeddedDbRestarts: restarts,
    socketio: {
      connected: () => void connections.n++,
      disconnected: (reason) => void disconnects.cell(reason).n++,
      eventReceived: (event) => void (known.has(event) ? received.cell(event).n++ : other.n++),
      eventEmitted: (event) => void emitted.cell(event).n++,
    },
    gateway: {
      handled(event, seconds, errorCode) {
        handled.observe({ event }, seconds);
        if (errorCode === null) return;
        failed.inc({ event, code: errorCode });
        if (errorCode === "RATE_LIMITED") limited.inc({ event });
      },
    },
    watchClusterBus(fn) {
      bus = fn;
    },
    watchListCache(fn) {
      listCache = fn;
    },
    watchSessions(fn) {
      sessions = fn;
    },
    instrumentPublisher(p) {
      return {
        ...p,
        messageCreated(message, conversation, unreadOf) {
          const accepted = message.timestamp.getTime();
          stored.observe((Date.now() - accepted) / 1000);
          p.messageCreated(message, conversation, unreadOf);
          delivered.observe((Date.now() - accepted) / 1000);
        },
      };
    },
    observeDbCommand(command, seconds, failed) {
      dbDuration.observe({ command }, seconds);
      if (failed) dbErrors.inc({ command });
    },
    async render() {
      return `${await registry.metrics()}\n${await processMetrics().metrics()}`;
    },
  };
}
