import type { GeneratorReport, RunSummary, SaturationReason } from "../format.ts";
import { fmt } from "../units.ts";

// What the report says about the load generator itself (summary.json `generator`, `generator_saturated`,
// capacity.knee_limited_by): plain sentences that the HTML page puts in a banner at the very top and the
// Markdown summary right under its title. A saturated generator means the figures from then on may be the
// harness's own queueing, so it is said before anything else is read.

export interface GeneratorVerdict {
  headline: string;
  /** One line per tripped rule: which thread, which figure, how far, when. */
  reasons: string[];
  /** What became of the capacity knee, when the generator limited it. */
  knee: string | null;
  /** Intervals flushed late (the runner's main thread fell behind), when any. */
  late: string | null;
}

const FIGURES: Record<SaturationReason["figure"], string> = {
  elu: "event-loop utilisation",
  loop_delay_p99_ms: "event-loop delay p99",
  loop_delay_max_ms: "event-loop stall",
  clock_lag_p50_ms: "clock lag p50",
  clock_lag_p99_ms: "clock lag p99",
  clock_lag_max_ms: "clock stall",
  process_cpu: "process CPU (share of the cores)",
};

export function describeReason(r: SaturationReason): string {
  const unit = r.figure.endsWith("_ms") ? " ms" : "";
  const held = r.sustained_s > 0 ? `, held ${fmt(r.sustained_s)} s or more` : "";
  return `${r.thread}: ${FIGURES[r.figure] ?? r.figure} ${fmt(r.observed)}${unit} ≥ ${fmt(r.limit)}${unit}${held} (${fmt(r.from_s)} s – ${fmt(r.to_s)} s)`;
}

/**
 * One line on the generator's own health for the run details: its worst figures, and whether it kept up.
 * Null for results that predate the self-watch.
 */
export function generatorSummary(s: RunSummary): string | null {
  const g = s.generator;
  if (!g) return null;
  const max = (f: (w: GeneratorReport["workers"][number]) => number | null) =>
    Math.max(0, ...g.workers.map((w) => f(w) ?? 0));
  const figures = `worker ELU max ${fmt(max((w) => w.elu_max))}, clock lag p99 max ${fmt(max((w) => w.clock_lag_p99_ms))} ms, loop delay p99 max ${fmt(max((w) => w.loop_delay_p99_ms))} ms, process CPU max ${fmt(Math.round(g.process_cpu.max * 100))}% of ${g.cores} cores${g.worker_loader ? `; workers loaded by ${g.worker_loader}` : ""}`;
  return s.generator_saturated
    ? `saturated from ${fmt(g.saturated_from_s ?? 0)} s (${figures})`
    : `kept up (${figures})`;
}

/** Null when the run was not saturated (or predates the generator's self-watch). */
export function generatorVerdict(s: RunSummary): GeneratorVerdict | null {
  const g = s.generator;
  if (!s.generator_saturated || !g) return null;
  const cap = s.capacity;
  let knee: string | null = null;
  if (cap.knee_limited_by === "generator") {
    const limit = cap.generator_limit;
    const at = limit
      ? ` at ${fmt(limit.vus)} VUs / ${fmt(limit.rooms)} rooms, ${fmt(limit.at_s)} s into the run`
      : "";
    const w = cap.withheld_knee;
    knee = `No capacity knee is reported: the load generator saturated${at}. ${
      w
        ? `The threshold ${w.metric} ${w.expression} broke at ${fmt(w.vus)} VUs / ${fmt(w.rooms)} rooms (${fmt(w.at_s)} s), after the generator had saturated: it cannot be attributed to the target.`
        : "No threshold broke before that: the target's knee is beyond what this generator could drive."
    }`;
  }
  return {
    headline: `The load generator was saturated from ${fmt(g.saturated_from_s ?? 0)} s into the run: latencies and rates from then on may measure the harness, not the target. Rerun with fewer VUs per process, more workers or machines.`,
    reasons: g.reasons.map(describeReason),
    knee,
    late:
      g.late_intervals > 0
        ? `${fmt(g.late_intervals)} interval(s) were flushed late (the runner's main thread fell behind); their times are real.`
        : null,
  };
}
