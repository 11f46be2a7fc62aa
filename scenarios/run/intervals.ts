import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { JsHistogram } from "hdr-histogram-js";
import { decodeHistogram, encodeHistogram } from "../metrics/hdr.ts";
import { MetricSet, type RateCount, type Snapshot } from "../metrics/set.ts";

// intervals.ndjson: every interval's samples as the run merged them, so that another program can rebuild the
// run's histograms exactly (`ktv merge` adds N runs' intervals; `ktv run --k6-json` turns them into k6 points).
// summary.json and timeseries.ndjson only keep percentiles, which cannot be merged.
//
//   line 1   {"format":"ktv-intervals/1","t0":<epoch ms>,"interval_ms":1000}
//   then     {"start_t":<epoch ms>,"t":<epoch ms>,"vus":n,"trends":{key:{"hdr","min","max"}},"counters":{...},
//             "rates":{key:{"trues","total"}},"errors_by_code":{...}}
//
// A trend is its HDR histogram in HdrHistogram's own interchange encoding (compressed base64, which every
// HdrHistogram library reads), values in thousandths of the metric's unit, with its exact minimum (non-zero)
// and maximum beside it: the encoding keeps the counts, not the extremes, and the runner's summaries carry
// exact extremes (metrics/hdr.ts trendData). Read back into the runner's layout, the histogram has the same
// counts, percentiles, min and max. The run's totals are the sum of its lines.
//
// Measured (a synthetic 1,000-VU interval: 250,000 per-frame samples and 30 tagged trends; load 14 on 2 cores):
// the buckets as JSON numbers took 5 ms of CPU and 133 KB per interval (480 MB an hour), the HdrHistogram
// encoding 3.6 ms and 23 KB. The runner's existing quantiles() walk over the same interval: 5 ms. Lines are
// written as each interval is flushed (one sync write a second on the main thread), under a temporary name
// renamed at the end, like the other result files.

export const INTERVALS_FILE = "intervals.ndjson";

interface EncodedTrend {
  /** HdrHistogram's compressed base64 encoding. */
  hdr: string;
  /** The smallest non-zero value and the largest, exact (integers, thousandths of the unit). */
  min: number;
  max: number;
}

/**
 * An encoded trend as [value, count, ...] pairs in the runner's layout (what metrics/hdr.ts trendData gives for
 * the histogram it came from): each bucket at its lowest equivalent value, the minimum's bucket at the minimum,
 * one count at the exact maximum.
 */
export function decodeTrend(t: EncodedTrend): Float64Array {
  const h = decodeHistogram(t.hdr) as JsHistogram;
  const out: number[] = [];
  const minIndex = t.max > 0 ? h.countsArrayIndex(t.min) : -1;
  const maxIndex = h.countsArrayIndex(t.max);
  for (let i = 0, n = h.countsArrayLength; i < n; i++) {
    let c = h.getCountAtIndex(i);
    if (c === 0) continue;
    if (i === maxIndex) {
      out.push(t.max, 1);
      c--;
    }
    if (c > 0) out.push(i === minIndex ? t.min : h.valueFromIndex(i), c);
  }
  return Float64Array.from(out);
}
export const INTERVALS_FORMAT = "ktv-intervals/1";

export interface IntervalLine {
  start_t: number;
  t: number;
  vus: number;
  set: MetricSet;
}

export class IntervalsWriter {
  private readonly fd: number;
  private readonly tmp: string;

  constructor(
    private readonly dir: string,
    t0: number,
    intervalMs: number,
  ) {
    mkdirSync(dir, { recursive: true });
    this.tmp = join(dir, `${INTERVALS_FILE}.tmp-${process.pid}`);
    this.fd = openSync(this.tmp, "w");
    writeSync(this.fd, `${JSON.stringify({ format: INTERVALS_FORMAT, t0, interval_ms: intervalMs })}\n`);
  }

  add(startT: number, t: number, vus: number, set: MetricSet): void {
    const trends: Record<string, EncodedTrend> = {};
    for (const [k, h] of set.trends) {
      if (h.totalCount === 0) continue;
      trends[k] = { hdr: encodeHistogram(h), min: h.minNonZeroValue, max: h.maxValue };
    }
    const rates: Record<string, RateCount> = {};
    for (const [k, r] of set.rates) rates[k] = r;
    writeSync(
      this.fd,
      `${JSON.stringify({
        start_t: Math.round(startT),
        t: Math.round(t),
        vus,
        trends,
        counters: Object.fromEntries(set.counters),
        rates,
        errors_by_code: Object.fromEntries(set.errorsByCode),
      })}\n`,
    );
  }

  close(): void {
    closeSync(this.fd);
    renameSync(this.tmp, join(this.dir, INTERVALS_FILE));
  }
}

export class IntervalsError extends Error {
  override name = "IntervalsError";
}

/** A results directory's intervals, each as a MetricSet; an IntervalsError names the file and line when broken. */
export function readIntervals(dir: string): { t0: number; intervalMs: number; intervals: IntervalLine[] } {
  const path = join(dir, INTERVALS_FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new IntervalsError(
      `${path}: missing (results written by a ktv run older than ktv merge have no per-interval histograms to merge)`,
    );
  }
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const parse = (l: string, i: number): Record<string, unknown> => {
    try {
      const o = JSON.parse(l);
      if (typeof o === "object" && o !== null && !Array.isArray(o)) return o;
    } catch {}
    throw new IntervalsError(`${path}:${i + 1}: not a JSON object`);
  };
  const head = parse(lines[0] ?? "", 0);
  if (head.format !== INTERVALS_FORMAT)
    throw new IntervalsError(
      `${path}:1: format ${JSON.stringify(head.format)}, expected "${INTERVALS_FORMAT}"`,
    );
  const intervals = lines.slice(1).map((l, k): IntervalLine => {
    const o = parse(l, k + 1);
    const at = `${path}:${k + 2}`;
    if (![o.start_t, o.t, o.vus].every((v) => typeof v === "number" && Number.isFinite(v)))
      throw new IntervalsError(`${at}: start_t, t and vus must be numbers`);
    const snap: Snapshot = { trends: {}, counters: {}, rates: {}, errorsByCode: {} };
    for (const [k2, v] of Object.entries((o.trends ?? {}) as Record<string, Partial<EncodedTrend>>)) {
      if (typeof v?.hdr !== "string" || !Number.isInteger(v.min) || !Number.isInteger(v.max))
        throw new IntervalsError(`${at}: trend ${k2} is not {hdr, min, max}`);
      try {
        snap.trends[k2] = decodeTrend(v as EncodedTrend);
      } catch (e) {
        throw new IntervalsError(
          `${at}: trend ${k2}: not an HdrHistogram encoding (${(e as Error).message})`,
        );
      }
    }
    snap.counters = numbers(o.counters, `${at}: counters`);
    snap.errorsByCode = numbers(o.errors_by_code, `${at}: errors_by_code`);
    for (const [k2, r] of Object.entries(
      (o.rates ?? {}) as Record<string, { trues?: unknown; total?: unknown }>,
    )) {
      if (typeof r?.trues !== "number" || typeof r.total !== "number" || r.trues > r.total)
        throw new IntervalsError(`${at}: rate ${k2} is not {trues, total} with trues <= total`);
      snap.rates[k2] = { trues: r.trues, total: r.total };
    }
    const set = new MetricSet();
    set.merge(snap);
    return { start_t: o.start_t as number, t: o.t as number, vus: o.vus as number, set };
  });
  if (typeof head.t0 !== "number" || typeof head.interval_ms !== "number")
    throw new IntervalsError(`${path}:1: t0 and interval_ms must be numbers`);
  return { t0: head.t0, intervalMs: head.interval_ms, intervals };
}

function numbers(v: unknown, at: string): Record<string, number> {
  if (v === undefined) return {};
  if (typeof v !== "object" || v === null || !Object.values(v).every((x) => typeof x === "number"))
    throw new IntervalsError(`${at} must be an object of numbers`);
  return v as Record<string, number>;
}
