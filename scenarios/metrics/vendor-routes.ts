import type { Histogram } from "hdr-histogram-js";
import { VENDOR_ROUTES } from "../../protocol/vendor-routes.ts";
import { ATTEMPT_NO_ANSWER, ATTEMPT_OK, type AttemptOutcome } from "../../reference/music/transport.ts";
import { seriesKey } from "./catalog.ts";
import { newHistogram, recordValue } from "./hdr.ts";
import type { MetricSet } from "./set.ts";

// Vendor requests by route, counted where they are made: the reference client reports every attempt (retries
// included) through its transport's thread observer (reference/music/transport.ts), and a worker counts them
// here into arrays indexed by route, so the per-request cost is a few array writes and one histogram record,
// with no key building and no allocation. At each flush the counts move into the worker's MetricSet under
// tagged series (vendor_requests{route:/search/song} ...), which travel to the main thread like every other
// metric (set.ts Snapshot, histograms as their buckets).

const N = VENDOR_ROUTES.length;

/** The series keys of each route, built once. */
const KEYS = VENDOR_ROUTES.map((route) => ({
  requests: seriesKey("vendor_requests", { route }),
  errors: seriesKey("vendor_request_errors", { route }),
  unanswered: seriesKey("vendor_requests_unanswered", { route }),
  latency: seriesKey("vendor_request_ms", { route }),
}));

export class VendorRouteMeter {
  private readonly requests = new Float64Array(N);
  private readonly errors = new Float64Array(N);
  private readonly unanswered = new Float64Array(N);
  // One per route, made on the route's first request and reused for the life of the thread.
  private readonly latency: (Histogram | null)[] = new Array<Histogram | null>(N).fill(null);

  /** One attempt (the transport's VendorAttemptObserver). Routes outside the list are ignored. */
  readonly record = (route: number, outcome: AttemptOutcome, ms: number): void => {
    if (route < 0 || route >= N) return;
    this.requests[route]!++;
    if (outcome !== ATTEMPT_OK) this.errors[route]!++;
    if (outcome === ATTEMPT_NO_ANSWER) this.unanswered[route]!++;
    let h = this.latency[route]!;
    if (h === null) {
      h = newHistogram();
      this.latency[route] = h;
    }
    recordValue(h, ms);
  };

  /** Moves everything counted since the last drain into `into` (counters add up; histograms merge). */
  drainTo(into: MetricSet): void {
    for (let i = 0; i < N; i++) {
      const n = this.requests[i]!;
      if (n === 0) continue;
      const k = KEYS[i]!;
      into.add(k.requests, n);
      into.add(k.errors, this.errors[i]!);
      into.add(k.unanswered, this.unanswered[i]!);
      const h = this.latency[i]!;
      into.trend(k.latency).add(h);
      h.reset();
      this.requests[i] = 0;
      this.errors[i] = 0;
      this.unanswered[i] = 0;
    }
  }
}
