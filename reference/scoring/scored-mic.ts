import type { PcmSource } from "../mixer/source.ts";
import type { Scorer } from "./scorer.ts";

// The microphone as the publish mixer reads it, with the scorer listening: each 10 ms frame the mixer pulls
// from the voice goes to Scorer.feed before it is mixed, at the player's position (the mixer reads the
// microphone before the players it was added before, so the position is that of the frame's first sample).
// The scorer's CPU is measured here, beside the mix cost it is also part of: two clock reads per frame.

/** Per-frame costs kept for the median: the last 1,024 frames (~10 s), in a ring allocated once. */
const COST_RING = 1024;

export class ScoredMicrophone implements PcmSource {
  private costUs = 0;
  private costFrames = 0;
  private readonly costs = new Float64Array(COST_RING);

  constructor(
    private readonly inner: PcmSource,
    readonly scorer: Scorer,
    private readonly positionMs: () => number,
  ) {}

  read(out: Int16Array): number {
    const n = this.inner.read(out);
    const t0 = performance.now();
    this.scorer.feed(out, this.positionMs());
    const us = (performance.now() - t0) * 1000;
    this.costs[this.costFrames % COST_RING] = us;
    this.costUs += us;
    this.costFrames++;
    return n;
  }

  /** Mean wall time of Scorer.feed per frame read, µs (0 before any frame). */
  get meanCostUs(): number {
    return this.costFrames === 0 ? 0 : this.costUs / this.costFrames;
  }

  /**
   * Median wall time of Scorer.feed over the last 1,024 frames, µs: the figure to read on a loaded machine,
   * where a preempted frame or two move the mean by tens of µs. Allocates: call it at the end, not per frame.
   */
  get medianCostUs(): number {
    const n = Math.min(this.costFrames, COST_RING);
    if (n === 0) return 0;
    const xs = this.costs.slice(0, n).sort();
    return xs[n >> 1]!;
  }

  get frames(): number {
    return this.costFrames;
  }
}

/** What a run reports about scoring (PipelineResult.score, `ktv sing --json`). Scores are 0-100 per line. */
export interface ScoreReport {
  singer: string;
  level: number;
  pitch_value_interval_ms: number;
  lines_scored: number;
  previous: number;
  average: number;
  total: number;
  full: number;
  /**
   * Median µs (wall) per 10 ms frame spent in Scorer.feed (pitch detection + scoring) over the last ~10 s; this
   * is also inside mix_cost_us, of which it is the share scoring adds.
   */
  cost_us: number;
  /** The mean over the whole run, µs (preempted frames included). */
  cost_mean_us: number;
  /** Frames the mixer read from the microphone, and those the scorer analysed (not paused, started, not stopped). */
  frames: number;
  frames_analysed: number;
}

export function scoreReport(
  mic: ScoredMicrophone,
  o: { singer: string; level: number; intervalMs: number },
): ScoreReport {
  const s = mic.scorer;
  return {
    singer: o.singer,
    level: o.level,
    pitch_value_interval_ms: o.intervalMs,
    lines_scored: s.linesScored,
    previous: s.getPreviousScore(),
    average: s.getAverageScore(),
    total: s.getTotalScore(),
    full: s.getFullScore(),
    cost_us: Math.round(mic.medianCostUs * 10) / 10,
    cost_mean_us: Math.round(mic.meanCostUs * 10) / 10,
    frames: mic.frames,
    frames_analysed: s.framesAnalysed,
  };
}
