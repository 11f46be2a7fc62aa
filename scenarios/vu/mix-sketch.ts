import type { ClockReport } from "../../reference/mixer/clock.ts";
import type { Recorder } from "./types.ts";

// The pipeline reports its frame clock as quantiles (p50, p90, p99, max over the run's frames), not as the
// histogram behind them. To merge runs, each run's frames are recorded as an upper-bound sketch: half the frames
// at p50, 40% at p90, 9% at p99, the rest (at least one) at max. Every frame is counted at or above its real
// value, so merged percentiles and thresholds err on the pessimistic side, never the optimistic one. When the
// pipeline exposes the histograms themselves, they replace this (see the report to the lead).

export function recordClockSketch(rec: Recorder, clock: ClockReport): void {
  const n = clock.frames;
  if (n <= 0) return;
  rec.add("mix_frames", n);
  rec.add("mix_late_frames", clock.late_frames);
  sketch(rec, "mix_lateness_ms", n, clock.lateness_ms);
  sketch(rec, "mix_cost_us", n, clock.mix_cost_us);
}

function sketch(
  rec: Recorder,
  metric: string,
  n: number,
  q: { p50: number; p90: number; p99: number; max: number },
): void {
  const n50 = Math.floor(n * 0.5);
  const n90 = Math.floor(n * 0.4);
  const n99 = Math.floor(n * 0.09);
  const nMax = n - n50 - n90 - n99;
  if (n50 > 0) rec.record(metric, q.p50, n50);
  if (n90 > 0) rec.record(metric, q.p90, n90);
  if (n99 > 0) rec.record(metric, q.p99, n99);
  rec.record(metric, q.max, nMax);
}
