import type { Composition } from "../music/composition.ts";

// The standard pitch line of a resource: the melody's notes inside the file's span, with times relative to
// the file (a clip's 0 is its segment_begin), so a scorer can compare them with the player's progress.

export interface PitchPoint {
  begin_time: number;
  duration: number;
  /** MIDI-like note number, 10-90. */
  value: number;
}

export const PITCH_MIN = 10;
export const PITCH_MAX = 90;

export function pitchLine(c: Composition, span: { begin: number; end: number }): PitchPoint[] {
  const out: PitchPoint[] = [];
  for (const n of c.notes) {
    const b = Math.max(n.begin, span.begin);
    const e = Math.min(n.begin + n.duration, span.end);
    if (e <= b) continue;
    out.push({
      begin_time: b - span.begin,
      duration: e - b,
      value: Math.min(PITCH_MAX, Math.max(PITCH_MIN, n.pitch)),
    });
  }
  return out;
}
