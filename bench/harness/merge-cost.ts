// A measurement, run by hand: what moving one interval's trends from the workers to the main thread costs, the
// way the runner did it at dc30b28 (HdrHistogram's compressed encoding of packed histograms, decoded and added
// on the main thread, the interval added into the run's total) against the way it does now (hdr.ts trendData:
// the recorded buckets as value/count pairs, Int32 histograms). CPU time of this one thread
// (process.cpuUsage), median of interleaved rounds, with the load average, since the machine is shared.
//
//   node --import tsx bench/harness/merge-cost.ts [workers=2] [rounds=15]
//
// The load: one second of a 1,000-VU pipeline run (250 rooms of 4: 250 singers, 750 listeners) split over the
// workers: per singer 100 mixer frames (mix_lateness_ms, mix_cost_us), per listener 100 packets
// (e2e_latency_ms), 10 iteration-level trends with a few samples, the generator_* samples.

import { loadavg } from "node:os";
import {
  build,
  decodeFromCompressedBase64,
  encodeIntoCompressedBase64,
  type Histogram,
} from "hdr-histogram-js";
import { recordValue } from "../../scenarios/metrics/hdr.ts";
import { MetricSet, type Snapshot } from "../../scenarios/metrics/set.ts";
import { timeseriesPoint } from "../../scenarios/run/series.ts";

const workers = Number(process.argv[2] ?? 2);
const rounds = Number(process.argv[3] ?? 15);

let seed = 1;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};
const logUniform = (lo: number, hi: number) => lo * (hi / lo) ** rnd();

/** One worker's second: metric name -> values. */
function workerSecond(): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const put = (name: string, n: number, f: () => number) => m.set(name, Array.from({ length: n }, f));
  const singers = 250 / workers;
  const listeners = 750 / workers;
  put("mix_lateness_ms", singers * 100, () => logUniform(0.005, 40));
  put("mix_cost_us", singers * 100, () => 5 + rnd() * 30);
  put("e2e_latency_ms", listeners * 100, () => logUniform(3, 300));
  for (const name of ["ttfa_ms", "search_ms", "request_resource_ms", "download_ms", "load_ms"])
    put(name, 8, () => logUniform(5, 2000));
  put("iteration_duration_ms", 8, () => logUniform(5_000, 60_000));
  put("ttfa_ms{corrected:true}", 8, () => logUniform(5, 2000));
  for (const name of ["generator_elu", "generator_loop_delay_ms", "generator_clock_lag_ms"])
    put(name, 1, rnd);
  return m;
}

// The dc30b28 path: packed histograms, compressed encoding, add, and a summary from the library's per-call
// percentiles and mean (what series.ts did for every trend of every interval).
function oldQuantiles(h: Histogram): number[] {
  const max = h.maxValue;
  const min = h.getValueAtPercentile(0) === 0 ? 0 : h.minNonZeroValue;
  return [min, h.mean, ...[50, 90, 95, 99, 99.9].map((q) => Math.min(h.getValueAtPercentile(q), max)), max];
}

const oldHistogram = (): Histogram =>
  build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
    bitBucketSize: "packed",
  });

function oldWorker(second: Map<string, number[]>): { drainUs: number; trends: Record<string, string> } {
  const hs = new Map<string, Histogram>();
  for (const [k, vs] of second) {
    const h = oldHistogram();
    for (const v of vs) recordValue(h, v);
    hs.set(k, h);
  }
  const t = process.cpuUsage();
  const trends: Record<string, string> = {};
  for (const [k, h] of hs) trends[k] = encodeIntoCompressedBase64(h);
  const d = process.cpuUsage(t);
  return { drainUs: d.user + d.system, trends };
}

function oldMain(snaps: Record<string, string>[], total: Map<string, Histogram>): number {
  const t = process.cpuUsage();
  const interval = new Map<string, Histogram>();
  for (const s of snaps) {
    for (const [k, enc] of Object.entries(s)) {
      const h = interval.get(k) ?? oldHistogram();
      interval.set(k, h);
      h.add(decodeFromCompressedBase64(enc, "packed"));
    }
  }
  for (const [k, h] of interval) {
    const tot = total.get(k) ?? oldHistogram();
    total.set(k, tot);
    tot.add(h);
    oldQuantiles(h);
  }
  const d = process.cpuUsage(t);
  return d.user + d.system;
}

function newWorker(second: Map<string, number[]>, set: MetricSet): { drainUs: number; snap: Snapshot } {
  for (const [k, vs] of second) for (const v of vs) set.record(k, v);
  const t = process.cpuUsage();
  const snap = set.drain();
  const d = process.cpuUsage(t);
  return { drainUs: d.user + d.system, snap };
}

function newMain(snaps: Snapshot[], total: MetricSet): number {
  const t = process.cpuUsage();
  const interval = new MetricSet();
  for (const s of snaps) interval.merge(s);
  total.mergeSet(interval);
  timeseriesPoint(interval, { t: 0, elapsedS: 1, vus: 1000 });
  const d = process.cpuUsage(t);
  return d.user + d.system;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const seconds = Array.from({ length: workers }, workerSecond);
const oldTotal = new Map<string, Histogram>();
const newTotal = new MetricSet();
const newSets = seconds.map(() => new MetricSet());
const r = {
  oldDrain: [] as number[],
  oldMain: [] as number[],
  newDrain: [] as number[],
  newMain: [] as number[],
};
for (let i = 0; i < rounds + 2; i++) {
  const o = seconds.map(oldWorker);
  const om = oldMain(
    o.map((x) => x.trends),
    oldTotal,
  );
  const n = seconds.map((s, w) => newWorker(s, newSets[w]!));
  const nm = newMain(
    n.map((x) => x.snap),
    newTotal,
  );
  if (i < 2) continue; // warm-up
  r.oldDrain.push(median(o.map((x) => x.drainUs)));
  r.oldMain.push(om);
  r.newDrain.push(median(n.map((x) => x.drainUs)));
  r.newMain.push(nm);
}
const samples = [...seconds[0]!.values()].reduce((a, v) => a + v.length, 0);
console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}; ${workers} workers, ${samples} samples per worker-second, ${rounds} rounds (median CPU µs)`,
);
console.log(`worker drain per second:  before ${median(r.oldDrain)} µs   after ${median(r.newDrain)} µs`);
console.log(`main merge per interval:  before ${median(r.oldMain)} µs   after ${median(r.newMain)} µs`);
