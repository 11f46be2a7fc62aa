import { Counter, Gauge, type Registry } from "prom-client";
import { LocalHistogram } from "./latency-histogram.ts";

// Media counters for /metrics. The per-frame path bumps plain numbers (MediaCounters) and a typed-array
// histogram (LocalHistogram); prom-client reads them at scrape time, so a relayed frame costs no label hashing
// and no prom-client call. Gauges are computed from the live state.

export interface MediaCounters {
  framesReceived: number;
  bytesReceived: number;
  framesRelayed: number;
  bytesRelayed: number;
  droppedMalformed: number;
  droppedNotLoggedIn: number;
  droppedNotPublisher: number;
  droppedBackpressure: number;
  framesMissing: number;
}

export function newMediaCounters(): MediaCounters {
  return {
    framesReceived: 0,
    bytesReceived: 0,
    framesRelayed: 0,
    bytesRelayed: 0,
    droppedMalformed: 0,
    droppedNotLoggedIn: 0,
    droppedNotPublisher: 0,
    droppedBackpressure: 0,
    framesMissing: 0,
  };
}

export interface MediaGauges {
  connections(): number;
  rooms(): number;
  activeStreams(): number;
  players(): number;
}

export interface MediaMetrics {
  counters: MediaCounters;
  logins: Counter<"code">;
  kicks: Counter<"code">;
  latency: LocalHistogram;
}

/** A counter that mirrors a monotonic number from `read` at scrape time. */
function mirrored(registry: Registry, name: string, help: string, read: () => number): void {
  let reported = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const v = read();
      if (v > reported) this.inc(v - reported);
      reported = v;
    },
  });
}

function mirroredDrops(registry: Registry, c: MediaCounters): void {
  const reasons = {
    malformed: () => c.droppedMalformed,
    not_logged_in: () => c.droppedNotLoggedIn,
    not_publisher: () => c.droppedNotPublisher,
    backpressure: () => c.droppedBackpressure,
  };
  const reported: Record<string, number> = {};
  new Counter({
    name: "ktv_media_frames_dropped_total",
    help: "Frames not relayed, by reason (malformed, not_logged_in, not_publisher: frames for a stream the sender does not publish; backpressure: per player)",
    labelNames: ["reason"],
    registers: [registry],
    collect() {
      for (const [reason, read] of Object.entries(reasons)) {
        const v = read();
        const before = reported[reason] ?? 0;
        // inc(0) still creates the series, so every reason shows up from the first scrape.
        this.inc({ reason }, Math.max(0, v - before));
        reported[reason] = v;
      }
    },
  });
}

export function registerMediaMetrics(registry: Registry, gauges: MediaGauges): MediaMetrics {
  const c = newMediaCounters();
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge("ktv_media_connections", "Open media WebSockets", gauges.connections);
  gauge("ktv_media_rooms", "Rooms with at least one media login", gauges.rooms);
  gauge("ktv_media_streams_active", "Streams with a publisher", gauges.activeStreams);
  gauge("ktv_media_players", "Stream plays in progress (one per player per stream)", gauges.players);
  mirrored(
    registry,
    "ktv_media_frames_received_total",
    "Frames accepted from publishers",
    () => c.framesReceived,
  );
  mirrored(registry, "ktv_media_bytes_received_total", "Bytes of accepted frames", () => c.bytesReceived);
  mirrored(registry, "ktv_media_frames_relayed_total", "Frames sent to players", () => c.framesRelayed);
  mirrored(registry, "ktv_media_bytes_relayed_total", "Bytes sent to players", () => c.bytesRelayed);
  mirrored(
    registry,
    "ktv_media_frames_missing_total",
    "Frames found missing by sequence gaps when the gap was seen",
    () => c.framesMissing,
  );
  mirroredDrops(registry, c);
  const latency = new LocalHistogram(
    "ktv_media_relay_latency_seconds",
    "Server receive time minus the frame's capture time",
    [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  );
  const metrics: MediaMetrics = {
    counters: c,
    logins: new Counter({
      name: "ktv_media_logins_total",
      help: "Media room logins by result code (0 = success)",
      labelNames: ["code"],
      registers: [registry],
    }),
    kicks: new Counter({
      name: "ktv_media_kicks_total",
      help: "Sockets kicked, by vendor code (1002050 duplicate login, 1002056 token expired)",
      labelNames: ["code"],
      registers: [registry],
    }),
    latency,
  };
  // Registered last, where the prom-client Histogram it replaces was: /metrics keeps its order.
  registry.registerMetric(latency as unknown as Parameters<Registry["registerMetric"]>[0]);
  return metrics;
}
