// setScoringLevel(0..4): the SDK's levels (default 4, 0 hardest) as two tolerances, since the vendor documents
// neither. A frame earns full credit when the detected pitch is within `cents` of a note the line expects
// within ±`graceMs` of the frame's time, nothing at 2 x `cents` or more, linearly between. The grace is the
// timing slack: a singer up to graceMs late or early still matches the note he is on.
//   level   0    1    2    3    4
//   cents   20   30   40   50   60    (full credit; zero at twice that)
//   graceMs 40   60   80  100  120
// A singer exactly one semitone (100 cents) off earns 0 at levels 0-2, 0.33 of a frame at 4.

export interface ScoringTolerance {
  cents: number;
  graceMs: number;
}

const TOLERANCES: readonly ScoringTolerance[] = [
  { cents: 20, graceMs: 40 },
  { cents: 30, graceMs: 60 },
  { cents: 40, graceMs: 80 },
  { cents: 50, graceMs: 100 },
  { cents: 60, graceMs: 120 },
];

export const DEFAULT_SCORING_LEVEL = 4;

export function toleranceFor(level: number): ScoringTolerance {
  if (!Number.isInteger(level) || level < 0 || level > 4) {
    throw new RangeError(`scoring level must be an integer in 0..4, got ${level}`);
  }
  return TOLERANCES[level]!;
}

/** A frame's credit in 0..1 for a pitch `deviation` cents from the note (octaves folded away by the caller). */
export function creditFor(deviation: number, t: ScoringTolerance): number {
  const d = Math.abs(deviation);
  if (d <= t.cents) return 1;
  if (d >= 2 * t.cents) return 0;
  return (2 * t.cents - d) / t.cents;
}
