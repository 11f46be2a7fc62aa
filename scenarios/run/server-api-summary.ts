import type { ServerApiActionLine } from "../../reports/format.ts";
import { quantiles } from "../metrics/hdr.ts";
import type { MetricSet } from "../metrics/set.ts";

// summary.json's `server_api` block (backend VUs): per action of the server REST API, the calls, their rate
// over the run, the retries, and the call latency quantiles (ms, backoffs included), so a partner sizing a
// backend reads per-action rate and latency in one place (the report's "Server API by action" table). Absent
// when the run made no server API call.

export function serverApiSummary(
  total: MetricSet,
  durationS: number,
): { server_api?: Record<string, ServerApiActionLine> } {
  const out: Record<string, ServerApiActionLine> = {};
  for (const [key, h] of total.trends) {
    const m = /^server_api_ms\{action:([A-Za-z]+)\}$/.exec(key);
    if (!m || h.totalCount === 0) continue;
    const action = m[1]!;
    const calls = total.counter(`server_api_calls{action:${action}}`);
    const q = quantiles(h);
    out[action] = {
      calls,
      per_s: durationS > 0 ? Math.round((calls / durationS) * 100) / 100 : 0,
      retries: total.counter(`server_api_retries{action:${action}}`),
      p50: q.p50,
      p95: q.p95,
      p99: q.p99,
      max: q.max,
    };
  }
  return Object.keys(out).length > 0 ? { server_api: out } : {};
}
