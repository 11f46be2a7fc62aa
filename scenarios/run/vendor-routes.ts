import { VENDOR_ROUTES } from "../../protocol/vendor-routes.ts";
import type { CheckResult, VendorRouteLine } from "../../reports/format.ts";
import { quantiles } from "../metrics/hdr.ts";
import type { MetricSet } from "../metrics/set.ts";

// Vendor requests by route: the clients' side (scenarios/metrics/vendor-routes.ts counts every attempt, retries
// included) for summary.json, and a check of those counts against the vendor's own (`ktv_vendor_requests_total`
// in the simulator's /metrics, read before and after the run and subtracted).
//
// Why a range and not equality: a client attempt that got no whole answer (a timeout, a reset, a cut body, the
// run's end) may or may not have reached the vendor, as with an unconfirmed requestResource. So, per route:
//
//   attempts answered <= requests the vendor answered <= attempts          (exact when none went unanswered)
//
// On an external simulator other clients may add requests meanwhile: there, only "fewer than the clients saw
// answered" is a failure; more is reported as possibly foreign.

const METRIC = "ktv_vendor_requests_total";
const TIMEOUT_MS = 10_000;

/** One line per route with requests: counts, rate over the run's real duration, latency percentiles. */
export function vendorRouteLines(total: MetricSet, durationS: number): VendorRouteLine[] {
  const lines: VendorRouteLine[] = [];
  for (const route of VENDOR_ROUTES) {
    const requests = total.counter(`vendor_requests{route:${route}}`);
    if (requests === 0) continue;
    const q = quantiles(total.trends.get(`vendor_request_ms{route:${route}}`));
    lines.push({
      route,
      requests,
      rate_per_s: durationS > 0 ? Math.round((requests / durationS) * 1000) / 1000 : 0,
      errors: total.counter(`vendor_request_errors{route:${route}}`),
      unanswered: total.counter(`vendor_requests_unanswered{route:${route}}`),
      p50_ms: q.p50,
      p95_ms: q.p95,
      p99_ms: q.p99,
      max_ms: q.max,
    });
  }
  return lines;
}

/** Per-route totals of `ktv_vendor_requests_total` in a Prometheus text exposition (summed over status). */
export function parseVendorCounts(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${METRIC}{`)) continue;
    const m = /route="((?:[^"\\]|\\.)*)"[^}]*\}\s+(\S+)/.exec(line);
    if (!m) continue;
    const route = m[1]!.replace(/\\(.)/g, "$1");
    const n = Number(m[2]);
    if (Number.isFinite(n)) out.set(route, (out.get(route) ?? 0) + n);
  }
  return out;
}

/** The simulator's per-route counts now (GET /metrics), or the Error saying why they could not be read. */
export async function readVendorCounts(target: string): Promise<Map<string, number> | Error> {
  try {
    const res = await fetch(`${target}/metrics`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    const text = await res.text();
    if (res.status !== 200) return new Error(`GET /metrics: HTTP ${res.status}`);
    if (!text.includes(METRIC)) return new Error(`GET /metrics has no ${METRIC} (a simulator without it)`);
    return parseVendorCounts(text);
  } catch (err) {
    return new Error(`GET /metrics: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export interface RouteCheckOptions {
  /** The simulator ran for this run only (embedded): every request it counted is the run's. */
  exclusive: boolean;
  /** A client module of its own: it may not report its requests, so a difference is not a failure. */
  ownClient: boolean;
  /**
   * The target stopped answering during the run (target-watch.ts): it may have restarted, and its /metrics
   * counters with it, so before and after are not comparable.
   */
  targetOutage?: boolean;
}

/** Compares the clients' per-route attempts with what the vendor counted between `before` and `after`. */
export function vendorRouteCheck(
  lines: readonly VendorRouteLine[],
  before: Map<string, number> | Error,
  after: Map<string, number> | Error,
  o: RouteCheckOptions,
): CheckResult {
  const name = "vendor_routes";
  if (o.targetOutage) {
    const detail =
      "not checked: the target stopped answering during the run (summary.json target), so its /metrics counters may have started over";
    return { name, ok: true, detail, data: { checked: false } };
  }
  const unreadable = before instanceof Error ? before : after instanceof Error ? after : null;
  if (unreadable) {
    return { name, ok: true, detail: `not checked: ${unreadable.message}`, data: { checked: false } };
  }
  const b = before as Map<string, number>;
  const a = after as Map<string, number>;
  const byRoute = new Map(lines.map((l) => [l.route, l]));
  const routes = new Set<string>([...byRoute.keys(), ...a.keys()]);
  const problems: string[] = [];
  const foreign: string[] = [];
  const data: Record<string, { client: number; client_unanswered: number; simulator: number }> = {};
  let clientTotal = 0;
  let simTotal = 0;
  for (const route of routes) {
    const l = byRoute.get(route);
    const attempts = l?.requests ?? 0;
    const unanswered = l?.unanswered ?? 0;
    const sim = (a.get(route) ?? 0) - (b.get(route) ?? 0);
    if (attempts === 0 && sim === 0) continue;
    clientTotal += attempts;
    simTotal += sim;
    data[route] = { client: attempts, client_unanswered: unanswered, simulator: sim };
    const answered = attempts - unanswered;
    const range = unanswered === 0 ? `${attempts}` : `${answered} to ${attempts}`;
    if (sim < answered) {
      problems.push(
        `${route}: the vendor answered ${sim}, fewer than the ${answered} answers the clients received`,
      );
    } else if (sim > attempts) {
      const line = `${route}: the vendor counted ${sim}, the clients made ${attempts} attempts (expected ${range})`;
      if (o.exclusive) problems.push(line);
      else foreign.push(line);
    }
  }
  const ok = problems.length === 0 || o.ownClient;
  const what = `the clients' vendor requests by route (${clientTotal} attempts, retries included) against the simulator's /metrics (${simTotal})`;
  const detail =
    problems.length === 0
      ? `${what}: every route within [answered, attempts]${foreign.length > 0 ? `; more on the vendor's side, maybe other clients': ${foreign.join("; ")}` : ""}`
      : `${what}: mismatch: ${problems.join("; ")}${o.ownClient ? " (not a failure: a client module of its own may not report its requests)" : ""}`;
  return { name, ok, detail, data: { checked: true, routes: data } };
}
