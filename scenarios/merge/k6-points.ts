import { metricInfo } from "../metrics/catalog.ts";
import { SCALE } from "../metrics/hdr.ts";
import {
  type Contains,
  type K6JsonWriter,
  type K6MetricType,
  k6JsonFile,
  type Tags,
} from "../metrics/k6-json.ts";
import type { IntervalLine } from "../run/intervals.ts";

// A `ktv run`'s samples as k6 JSON points (`ktv run --k6-json`), from its intervals (run/intervals.ts) after the
// run, so the runner's main thread never formats a line per sample while it runs.
//
// What a point carries, by type, so that a k6 tool reading the file counts and sums what the run recorded:
//   trend    one point per sample, at its HDR bucket (within the histograms' 3 significant digits; the minimum
//            and maximum exact), timed at its interval's end (1 s resolution);
//   counter  one point per series and interval, the interval's sum (k6 sums a counter's points);
//   rate     one point per sample, 1 or 0. `errors` is one sample per iteration and errors{code:X} only
//            narrows its failures (catalog.ts: denominator "base"), so a failure is written once, tagged with
//            its code, not twice;
//   gauge    `vus`, one point per interval.

const parseKey = (key: string): { name: string; tags: Tags } => {
  const m = /^([^{}]+)(?:\{(.*)\})?$/.exec(key)!;
  const tags: Tags = {};
  if (m[2]) {
    for (const part of m[2].split(",")) {
      const i = part.indexOf(":");
      tags[part.slice(0, i)] = part.slice(i + 1);
    }
  }
  return { name: m[1]!, tags };
};

function containsOf(name: string): Contains {
  const unit = metricInfo(name)?.unit;
  return unit === "ms" ? "time" : unit === "bytes" ? "data" : "default";
}

/** Writes one interval's samples as points. */
export function writeIntervalPoints(w: K6JsonWriter, iv: IntervalLine): void {
  const t = iv.t;
  w.point("vus", iv.vus, null, t);
  for (const [key, h] of iv.set.trends) {
    if (h.totalCount === 0) continue;
    const { name, tags } = parseKey(key);
    // The same walk trendData makes: each bucket's count at its value, the extremes exact.
    const j = h as unknown as {
      countsArrayLength: number;
      getCountAtIndex(i: number): number;
      valueFromIndex(i: number): number;
      countsArrayIndex(v: number): number;
    };
    const max = h.maxValue;
    const min = h.minNonZeroValue;
    const maxIndex = j.countsArrayIndex(max);
    const minIndex = max > 0 ? j.countsArrayIndex(min) : -1;
    for (let i = 0, n = j.countsArrayLength; i < n; i++) {
      let c = j.getCountAtIndex(i);
      if (c === 0) continue;
      if (i === maxIndex) {
        w.point(name, max / SCALE, tags, t);
        c--;
      }
      const v = (i === minIndex ? min : j.valueFromIndex(i)) / SCALE;
      for (; c > 0; c--) w.point(name, v, tags, t);
    }
  }
  for (const [key, n] of iv.set.counters) {
    const { name, tags } = parseKey(key);
    w.point(name, n, tags, t);
  }
  for (const [key, r] of iv.set.rates) {
    const { name, tags } = parseKey(key);
    const narrowing = metricInfo(name)?.denominator === "base";
    if (narrowing && Object.keys(tags).length > 0) continue;
    let trues = r.trues;
    if (narrowing) {
      for (const [k2, r2] of iv.set.rates) {
        if (!k2.startsWith(`${name}{`)) continue;
        const sub = parseKey(k2).tags;
        for (let i = 0; i < r2.trues && trues > 0; i++, trues--) w.point(name, 1, sub, t);
      }
    }
    for (let i = 0; i < trues; i++) w.point(name, 1, tags, t);
    for (let i = 0; i < r.total - r.trues; i++) w.point(name, 0, tags, t);
  }
}

/** Writes a run's intervals to a k6 JSON file; `thresholds` by metric key as the scenario wrote them. */
export async function writeRunK6Json(
  path: string,
  intervals: IntervalLine[],
  thresholds: Record<string, unknown> | undefined,
): Promise<void> {
  const types = new Map<string, K6MetricType>([["vus", "gauge"]]);
  for (const iv of intervals) {
    for (const k of iv.set.trends.keys()) types.set(parseKey(k).name, "trend");
    for (const k of iv.set.counters.keys()) types.set(parseKey(k).name, "counter");
    for (const k of iv.set.rates.keys()) types.set(parseKey(k).name, "rate");
  }
  const byName = new Map<string, string[]>();
  const subs = new Map<string, { name: string; suffix: string; tags: Tags }[]>();
  for (const [key, list] of Object.entries(thresholds ?? {})) {
    const { name, tags } = parseKey(key);
    if (Object.keys(tags).length > 0) {
      const l = subs.get(name) ?? [];
      l.push({ name: key, suffix: key.slice(name.length + 1, -1), tags });
      subs.set(name, l);
    }
    if (key !== name) continue;
    const sources = (Array.isArray(list) ? list : []).map((x: unknown) =>
      typeof x === "string" ? x : String((x as { threshold?: unknown }).threshold),
    );
    byName.set(name, sources);
  }
  const out = k6JsonFile(path, (name) => ({
    name,
    type: types.get(name) ?? "counter",
    contains: name === "vus" ? "default" : containsOf(name),
    thresholds: byName.get(name) ?? [],
    submetrics: subs.get(name) ?? null,
  }));
  try {
    for (const iv of intervals) writeIntervalPoints(out.writer, iv);
  } finally {
    await out.close();
  }
}
