// A measurement, run by hand: what counting vendor requests by route costs a worker per attempt, against the
// alternative of counting through the worker's MetricSet with a tagged key built per request
// (`vendor_request_ms{route:...}`, a string concatenation and map look-ups each time). CPU time of this thread
// (process.cpuUsage) and heap growth with the GC held off, median of interleaved rounds, with the load average.
//
//   node --expose-gc --max-semi-space-size=256 --import tsx bench/harness/route-meter-cost.ts [attempts] [rounds]
//
// The large young generation keeps the GC from running inside a measured loop, so the heap growth is what the
// loop allocated.

import { loadavg } from "node:os";
import { VENDOR_ROUTES, vendorRouteIndex } from "../../protocol/vendor-routes.ts";
import { MetricSet } from "../../scenarios/metrics/set.ts";
import { VendorRouteMeter } from "../../scenarios/metrics/vendor-routes.ts";

const attempts = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 7);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

// A mix like a pipeline iteration's: init, searches, requestResource, lyrics, pitch, download.
const PATHS: [string, string | undefined][] = [
  ["/v1/music/init", undefined],
  ["/v1/music/extended", "/search/song"],
  ["/v1/music/extended", "/top/song"],
  ["/v1/music/resource", undefined],
  ["/v1/music/lyrics/krc", undefined],
  ["/v1/music/pitch", undefined],
  ["/v1/music/download/z_123_4", undefined],
];

// Both counters live for the thread's life, as in a worker (their histograms made once, outside the measure).
const meter = new VendorRouteMeter();
const sink = new MetricSet();
const set = new MetricSet();

function meterRun(): void {
  for (let i = 0; i < attempts; i++) {
    const p = PATHS[i % PATHS.length]!;
    meter.record(vendorRouteIndex(p[0], p[1]), i % 50 === 0 ? 1 : 0, 1 + (i % 97));
  }
}

function keyedRun(): void {
  for (let i = 0; i < attempts; i++) {
    const p = PATHS[i % PATHS.length]!;
    const route = VENDOR_ROUTES[vendorRouteIndex(p[0], p[1])]!;
    set.add(`vendor_requests{route:${route}}`);
    if (i % 50 === 0) set.add(`vendor_request_errors{route:${route}}`);
    set.record(`vendor_request_ms{route:${route}}`, 1 + (i % 97));
  }
}

function measure(f: () => void): { nsPerOp: number; bytesPerOp: number } {
  gc!();
  const heap0 = process.memoryUsage().heapUsed;
  const cpu0 = process.cpuUsage();
  f();
  const cpu = process.cpuUsage(cpu0);
  const heap = process.memoryUsage().heapUsed - heap0;
  return { nsPerOp: ((cpu.user + cpu.system) * 1000) / attempts, bytesPerOp: heap / attempts };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
meterRun();
meter.drainTo(sink);
keyedRun();
const meterCost: { nsPerOp: number; bytesPerOp: number }[] = [];
const keyed: { nsPerOp: number; bytesPerOp: number }[] = [];
for (let r = 0; r < rounds; r++) {
  meterCost.push(measure(meterRun));
  meter.drainTo(sink);
  keyed.push(measure(keyedRun));
}
const line = (name: string, xs: { nsPerOp: number; bytesPerOp: number }[]) =>
  `${name.padEnd(34)} ${median(xs.map((x) => x.nsPerOp))
    .toFixed(0)
    .padStart(6)} ns CPU/attempt  ${median(xs.map((x) => x.bytesPerOp))
    .toFixed(1)
    .padStart(6)} B heap/attempt`;
process.stdout.write(
  `${attempts} attempts x ${rounds} rounds, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(
      " ",
    )}\n${line("route meter (arrays by route)", meterCost)}\n${line("MetricSet, key built per attempt", keyed)}\n`,
);
