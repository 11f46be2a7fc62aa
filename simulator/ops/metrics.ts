import { Counter, Gauge, Registry } from "prom-client";
import { LabelTally, RouteHistogram } from "./request-tally.ts";

/** One registry per simulator instance, so two simulators in one process (tests) never mix counts. */
export interface SimMetrics {
  registry: Registry;
  /** Read at scrape time from `tally.requests` (observe.ts counts there). */
  requests: Counter<"route" | "method" | "status" | "code">;
  latency: RouteHistogram;
  /** Read at scrape time from `tally.vendorRequests`. */
  vendorRequests: Counter<"route" | "status">;
  /** The per-request counts behind `requests` and `vendorRequests` (request-tally.ts). */
  tally: {
    requests: LabelTally<"route" | "method" | "status" | "code">;
    vendorRequests: LabelTally<"route" | "status">;
  };
  bytesServed: Counter<"quality">;
  activeDownloads: Gauge;
  ledgerRows: Counter<"billing_mode" | "vendor_id">;
  resourcesIssued: Counter<"resource_type" | "via">;
}

export function createMetrics(): SimMetrics {
  const registry = new Registry();
  const tally = {
    requests: new LabelTally<"route" | "method" | "status" | "code">(),
    vendorRequests: new LabelTally<"route" | "status">(),
  };
  const latency = new RouteHistogram(
    "ktv_request_duration_seconds",
    "Time to answer, by route (downloads: time to the end of the body)",
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  );
  const requests = new Counter({
    name: "ktv_requests_total",
    help: "Requests by route, HTTP status and envelope code",
    labelNames: ["route", "method", "status", "code"],
    registers: [registry],
    collect() {
      tally.requests.flushInto(this);
    },
  });
  // Registered between the two counters, where the prom-client histogram it replaces was: /metrics keeps its order.
  registry.registerMetric(latency as unknown as Parameters<Registry["registerMetric"]>[0]);
  const m: SimMetrics = {
    registry,
    tally,
    requests,
    latency,
    vendorRequests: new Counter({
      name: "ktv_vendor_requests_total",
      help:
        "Vendor requests answered, by vendor route (the SDK call, or the command of sendExtendedRequest; " +
        "protocol/vendor-routes.ts, the names the reference client counts its attempts by) and HTTP status",
      labelNames: ["route", "status"],
      registers: [registry],
      collect() {
        tally.vendorRequests.flushInto(this);
      },
    }),
    bytesServed: new Counter({
      name: "ktv_cdn_bytes_served_total",
      help: "Audio bytes written by the download CDN",
      labelNames: ["quality"],
      registers: [registry],
    }),
    activeDownloads: new Gauge({
      name: "ktv_cdn_active_downloads",
      help: "Downloads in progress",
      registers: [registry],
    }),
    ledgerRows: new Counter({
      name: "ktv_ledger_rows_total",
      help: "Billable events committed to the ledger since start",
      labelNames: ["billing_mode", "vendor_id"],
      registers: [registry],
    }),
    resourcesIssued: new Counter({
      name: "ktv_resources_issued_total",
      help: "Resources handed out, by type and whether via requestResource or getSharedResource",
      labelNames: ["resource_type", "via"],
      registers: [registry],
    }),
  };
  return m;
}

/** Exposes the CDN's rendered-chunk cache at scrape time: a hit is a chunk served without rendering it. */
export function observeChunkCache(
  m: SimMetrics,
  cache: () => { hits: number; misses: number; bytes: number } | undefined,
): void {
  for (const [name, help, read] of [
    ["ktv_cdn_chunk_cache_hits", "CDN file chunks served from the rendered-chunk cache", (c) => c.hits],
    [
      "ktv_cdn_chunk_cache_misses",
      "CDN file chunks rendered because the cache did not hold them",
      (c) => c.misses,
    ],
    ["ktv_cdn_chunk_cache_bytes", "bytes held by the CDN's rendered-chunk cache", (c) => c.bytes],
  ] as const satisfies readonly (readonly [
    string,
    string,
    (c: { hits: number; misses: number; bytes: number }) => number,
  ])[]) {
    new Gauge({
      name,
      help,
      registers: [m.registry],
      collect() {
        const c = cache();
        this.set(c ? read(c) : 0);
      },
    });
  }
}

/**
 * Numbers read at scrape time, each a gauge: what the caps of limits.ts hold and forgot or refused, and the slow
 * clients http-timeouts.ts cut. A load run that meets a cap shows it here, not only in its clients' errors.
 */
export function observeReadings(
  m: SimMetrics,
  readings: readonly (readonly [string, string, () => number])[],
): void {
  for (const [name, help, read] of readings) {
    new Gauge({
      name,
      help,
      registers: [m.registry],
      collect() {
        this.set(read());
      },
    });
  }
}

/** Exposes the ledger's durable row count at scrape time (survives restarts, unlike the counters). */
export function observeLedger(m: SimMetrics, ledger: { count(): number }): void {
  new Gauge({
    name: "ktv_ledger_rows",
    help: "Rows in the billing ledger (durable; includes rows from earlier runs on the same data dir)",
    registers: [m.registry],
    collect() {
      this.set(ledger.count());
    },
  });
}
