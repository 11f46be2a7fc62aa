import { FRAME_MS } from "../mixer/frame.ts";
import { creditFor, DEFAULT_SCORING_LEVEL, type ScoringTolerance, toleranceFor } from "./levels.ts";
import { hzToNote, YinDetector } from "./yin.ts";

// Vocal scoring shaped like the SDK's (spec §4): startScore(resourceID, pitchValueInterval) → the singer's pitch
// every interval (onCurrentPitchValueUpdate), a score per line at its end (getPreviousScore), and the
// average, total and full scores; pause/resume/stop/reset; setScoringLevel(0..4) applied at the next start.
//
// The arithmetic, per 10 ms microphone frame (before it is mixed), with `positionMs` the song position of the
// frame's first sample:
//   - YIN (yin.ts) estimates the pitch of the window ending with the frame; that window is centred at
//     t = positionMs + 10 − windowMs/2, the time the frame is judged at.
//   - If the pitch line expects a note at t, the frame counts towards the line containing t and earns a
//     credit in 0..1 (levels.ts): the best over the notes within ±graceMs of t, by the distance in cents from
//     the detected pitch to the note with whole octaves folded away (a singer an octave below the line is in
//     tune, as karaoke scorers treat it). Unvoiced earns 0. Frames where no note is expected do not count.
//   - When t passes a line's end (begin_time + duration) the line scores round(100 · credits / frames): 0-100
//     per line. A line that got no counted frame (paused over, no notes) is skipped: no score, not averaged.
//   - previous = the last line's score; total = Σ line scores; average = round(total / lines scored);
//     full = 100 x the lines of the pitch line that expect at least one note (the total a perfect singer reaches).
// Cost: the detector (~9-15 µs CPU per frame at 8 kHz, bench/scoring/pitch-cost.ts) plus a few comparisons.
// Nothing is allocated per frame: the line and note tables are typed arrays built once by start().

export interface PitchLineNote {
  begin_time: number;
  duration: number;
  /** MIDI-like note number, 10-90. */
  value: number;
}

export interface ScoreLine {
  begin_time: number;
  duration: number;
}

export type PitchValueListener = (currentDurationMs: number, pitchValue: number) => void;

export const DEFAULT_PITCH_VALUE_INTERVAL = 50;
export const MAX_LINE_SCORE = 100;

type State = "idle" | "running" | "paused" | "stopped";

export class Scorer {
  /** onCurrentPitchValueUpdate: song position (ms, after the frame) and the pitch as a rounded note number, 0 unvoiced. */
  onCurrentPitchValueUpdate: PitchValueListener | null = null;
  readonly detector: YinDetector;
  private state: State = "idle";
  private level = DEFAULT_SCORING_LEVEL;
  private tolerance: ScoringTolerance = toleranceFor(DEFAULT_SCORING_LEVEL);
  private intervalMs = DEFAULT_PITCH_VALUE_INTERVAL;
  private sinceUpdate = 0;
  private noteBegin = new Float64Array(0);
  private noteEnd = new Float64Array(0);
  private noteValue = new Float64Array(0);
  private lineBegin = new Float64Array(0);
  private lineEnd = new Float64Array(0);
  private lineCursor = 0;
  private noteCursor = 0;
  private graceCursor = 0;
  private lineFrames = 0;
  private lineCredit = 0;
  private previous = 0;
  private total = 0;
  private scoredLines = 0;
  private full = 0;
  private current = 0;
  private currentNote = 0;
  private lastT = Number.NEGATIVE_INFINITY;
  private analysed = 0;

  constructor(detector: YinDetector = new YinDetector()) {
    this.detector = detector;
  }

  /** setScoringLevel: 0 (hardest) .. 4 (default); takes effect at the next start(). */
  setScoringLevel(level: number): void {
    toleranceFor(level);
    this.level = level;
  }

  /**
   * startScore: scores `pitch` (getStandardPitch's notes, times relative to the played file) from now on,
   * calling onCurrentPitchValueUpdate every `intervalMs` of audio (rounded up to whole 10 ms frames). `lines`:
   * the lyric lines scored one by one (KRC begin_time/duration); default one line per note. Scores are not
   * zeroed (reset() does that, as the SDK's docs call resetScore before startScore).
   */
  start(
    pitch: readonly PitchLineNote[],
    intervalMs = DEFAULT_PITCH_VALUE_INTERVAL,
    lines?: readonly ScoreLine[],
  ): void {
    if (!Number.isInteger(intervalMs) || intervalMs < FRAME_MS) {
      throw new RangeError(
        `scoring: pitchValueInterval must be an integer ≥ ${FRAME_MS} ms, got ${intervalMs}`,
      );
    }
    for (const n of pitch) {
      if (
        !(
          Number.isFinite(n.begin_time) &&
          Number.isFinite(n.duration) &&
          n.begin_time >= 0 &&
          n.duration >= 0
        )
      ) {
        throw new RangeError(`scoring: note times must be finite and ≥ 0, got ${JSON.stringify(n)}`);
      }
      if (!(n.value >= 10 && n.value <= 90)) {
        throw new RangeError(`scoring: pitch value must be in 10..90, got ${n.value}`);
      }
    }
    const notes = [...pitch].sort((a, b) => a.begin_time - b.begin_time);
    const ls = [...(lines ?? notes)].sort((a, b) => a.begin_time - b.begin_time);
    for (const l of ls) {
      if (!(Number.isFinite(l.begin_time) && Number.isFinite(l.duration) && l.duration >= 0)) {
        throw new RangeError(`scoring: line times must be finite, duration ≥ 0, got ${JSON.stringify(l)}`);
      }
    }
    this.noteBegin = Float64Array.from(notes, (n) => n.begin_time);
    this.noteEnd = Float64Array.from(notes, (n) => n.begin_time + n.duration);
    this.noteValue = Float64Array.from(notes, (n) => n.value);
    this.lineBegin = Float64Array.from(ls, (l) => l.begin_time);
    this.lineEnd = Float64Array.from(ls, (l) => l.begin_time + l.duration);
    let full = 0;
    for (let i = 0; i < ls.length; i++) {
      const b = this.lineBegin[i]!;
      const e = this.lineEnd[i]!;
      if (notes.some((n) => n.begin_time < e && n.begin_time + n.duration > b && n.duration > 0)) full++;
    }
    this.full = full * MAX_LINE_SCORE;
    this.tolerance = toleranceFor(this.level);
    this.intervalMs = intervalMs;
    this.sinceUpdate = 0;
    this.lineCursor = 0;
    this.noteCursor = 0;
    this.graceCursor = 0;
    this.lineFrames = 0;
    this.lineCredit = 0;
    this.lastT = Number.NEGATIVE_INFINITY;
    this.detector.clear();
    this.state = "running";
  }

  /** One microphone frame (48 kHz stereo, before mixing) whose first sample plays at song position `positionMs`. */
  feed(frame: Int16Array, positionMs: number): void {
    if (this.state !== "running") return;
    this.analysed++;
    const note = hzToNote(this.detector.detect(frame));
    this.currentNote = note;
    this.current = Math.round(note);
    const t = positionMs + FRAME_MS - this.detector.windowMs / 2;
    const lineEnd = this.lineEnd;
    if (t < this.lastT) this.rewind(t);
    this.lastT = t;
    while (this.lineCursor < lineEnd.length && lineEnd[this.lineCursor]! <= t) this.closeLine();
    if (this.lineCursor < lineEnd.length && this.lineBegin[this.lineCursor]! <= t && this.expects(t)) {
      this.lineFrames++;
      this.lineCredit += note > 0 ? this.credit(note, t) : 0;
    }
    this.sinceUpdate += FRAME_MS;
    if (this.sinceUpdate >= this.intervalMs) {
      this.sinceUpdate = 0;
      this.onCurrentPitchValueUpdate?.(positionMs + FRAME_MS, this.current);
    }
  }

  /** pauseScore: frames fed while paused are not analysed, scored or reported. */
  pause(): void {
    if (this.state === "running") this.state = "paused";
  }

  resume(): void {
    if (this.state === "paused") this.state = "running";
  }

  /** stopScore: no more callbacks or scoring; the scores stay readable. */
  stop(): void {
    this.state = "stopped";
  }

  /** resetScore: zeroes the scores and the line in progress (the full score is the pitch line's, and stays). */
  reset(): void {
    this.previous = 0;
    this.total = 0;
    this.scoredLines = 0;
    this.lineFrames = 0;
    this.lineCredit = 0;
    this.current = 0;
    this.currentNote = 0;
  }

  getPreviousScore(): number {
    return this.previous;
  }

  getAverageScore(): number {
    return this.scoredLines === 0 ? 0 : Math.round(this.total / this.scoredLines);
  }

  getTotalScore(): number {
    return this.total;
  }

  getFullScore(): number {
    return this.full;
  }

  /** The last frame's pitch as a rounded note number, 0 when unvoiced. */
  getCurrentPitch(): number {
    return this.current;
  }

  /** The last frame's pitch as a fractional note number (0 unvoiced): finer than the SDK's int, for tests. */
  get currentNoteValue(): number {
    return this.currentNote;
  }

  /** Frames analysed since construction (fed while running: not before start, while paused or after stop). */
  get framesAnalysed(): number {
    return this.analysed;
  }

  /** Lines scored so far (the average's divisor). */
  get linesScored(): number {
    return this.scoredLines;
  }

  private closeLine(): void {
    if (this.lineFrames > 0) {
      const score = Math.round((MAX_LINE_SCORE * this.lineCredit) / this.lineFrames);
      this.previous = score;
      this.total += score;
      this.scoredLines++;
    }
    this.lineFrames = 0;
    this.lineCredit = 0;
    this.lineCursor++;
  }

  /** A seek backwards: the line in progress is dropped and the cursors start over (rare, so a scan is fine). */
  private rewind(t: number): void {
    this.lineFrames = 0;
    this.lineCredit = 0;
    let l = 0;
    while (l < this.lineEnd.length && this.lineEnd[l]! <= t) l++;
    this.lineCursor = l;
    this.noteCursor = 0;
    this.graceCursor = 0;
    this.detector.clear();
  }

  /** Whether a note is expected at t (moves the note cursor forward; positions only go forward between starts). */
  private expects(t: number): boolean {
    const end = this.noteEnd;
    let c = this.noteCursor;
    while (c < end.length && end[c]! <= t) c++;
    this.noteCursor = c;
    return c < end.length && this.noteBegin[c]! <= t;
  }

  /** The best credit over the notes sounding within ±graceMs of t. */
  private credit(note: number, t: number): number {
    const grace = this.tolerance.graceMs;
    const begin = this.noteBegin;
    const end = this.noteEnd;
    let c = this.graceCursor;
    while (c < end.length && end[c]! <= t - grace) c++;
    this.graceCursor = c;
    let best = 0;
    for (let k = c; k < end.length && begin[k]! < t + grace; k++) {
      if (end[k]! <= t - grace) continue;
      let dev = 100 * (note - this.noteValue[k]!);
      dev -= 1200 * Math.round(dev / 1200);
      const cr = creditFor(dev, this.tolerance);
      if (cr > best) best = cr;
    }
    return best;
  }
}
