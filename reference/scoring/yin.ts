import { assertFrame, FRAME_FRAMES, SAMPLE_RATE } from "../mixer/frame.ts";

// Pitch of the microphone signal, one estimate per 10 ms frame, by YIN: A. de Cheveigné and H. Kawahara,
// "YIN, a fundamental frequency estimator for speech and music", JASA 111(4), 2002. Steps (the paper's):
//   2. difference function   d(τ) = Σ_{j<W} (x_j − x_{j+τ})²                 τ = 1..maxLag
//   3. cumulative mean norm. d'(τ) = d(τ) · τ / Σ_{k=1..τ} d(k),  d'(0) = 1
//   4. absolute threshold    the first τ ≥ minLag with d'(τ) < threshold, walked down to its local minimum;
//                            no such τ: unvoiced (the paper falls back to the global minimum; a scorer is
//                            better served by "no pitch" than by a guess)
//   5. parabolic interpolation of d around τ; f0 = rate / τ̂.
// A frame quieter than `silenceRms` is unvoiced without step 2 (silence, breath noise).
//
// Cost: step 2 is W · maxLag multiply-adds per estimate and dominates everything else, so the signal is first
// decimated: each output sample is the mean of `decimation` input frames (both channels), a box filter whose
// nulls sit on the multiples of the new rate. Measured CPU per frame (bench/scoring/pitch-cost.ts, medians of 7
// interleaved rounds over a voice singing notes 48-76, 2 shared cores): computing every lag, 8 kHz (decimation
// 6, 70-1100 Hz, W = maxLag = 115: 13k multiply-adds) 15-22 µs, 12 kHz ~32 µs, 24 kHz ~140 µs; hence 8 kHz.
// Step 2 in the correlation form below (one multiply-add a term, four accumulators) took 8 kHz from ~21 µs
// (direct (x_j − x_{j+τ})²) to ~15; stopping at the answer's lag (step 4 as the lags come, the same estimate)
// from 22.3 to 9.3 µs in one run at load 1.2. Unvoiced-but-loud windows still pay for every lag.
// The box filter attenuates 4-8 kHz only by 4 dB rising to its null at 8 kHz, so harmonics above 4 kHz
// alias a little; a voice's fundamental (≤ 1.1 kHz here) and its first harmonics are below that, and 8 kHz
// still finds sines within a few cents (yin.test.ts). The analysis window (W + maxLag decimated samples,
// ~29 ms) spans three frames: a sliding window shifted by one frame's hop (copyWithin) per call. All buffers
// are allocated in the constructor; detect() allocates nothing.

export interface YinOptions {
  /** Input frames averaged into one analysed sample; must divide 480 (default 6: 8 kHz). */
  decimation?: number;
  /** Lowest fundamental searched, Hz (default 70: below any pitch-line note a voice sings). */
  minHz?: number;
  /** Highest fundamental searched, Hz (default 1100). */
  maxHz?: number;
  /** YIN's absolute threshold on d' (default 0.15). */
  threshold?: number;
  /** RMS (int16 units, after decimation) under which a window is unvoiced (default 100, about −50 dBFS). */
  silenceRms?: number;
  /** Stop step 2 at the answer's lag (default true; false computes every lag, for tests and the bench). */
  earlyExit?: boolean;
}

export class YinDetector {
  /** Analysed sample rate, Hz. */
  readonly rate: number;
  readonly minLag: number;
  readonly maxLag: number;
  /** The analysis window's length in ms: an estimate describes the audio centred windowMs/2 before the frame's end. */
  readonly windowMs: number;
  /** Sliding window of decimated samples, newest at the end (exposed for tests that check it is reused). */
  readonly window: Float64Array;
  /** d'(τ). */
  readonly diff: Float64Array;
  /** d(τ), kept for step 5: the paper interpolates the raw difference, which d'(τ)'s τ factor would skew. */
  readonly raw: Float64Array;
  private readonly decimation: number;
  private readonly hop: number;
  private readonly span: number;
  private readonly threshold: number;
  private readonly silenceEnergy: number;
  private readonly earlyExit: boolean;
  private filled = 0;

  constructor(o: YinOptions = {}) {
    const decimation = o.decimation ?? 6;
    if (!Number.isInteger(decimation) || decimation < 1 || FRAME_FRAMES % decimation !== 0) {
      throw new RangeError(`yin: decimation must be an integer dividing ${FRAME_FRAMES}, got ${decimation}`);
    }
    const minHz = o.minHz ?? 70;
    const maxHz = o.maxHz ?? 1100;
    this.rate = SAMPLE_RATE / decimation;
    if (!(minHz > 0 && maxHz > minHz && maxHz < this.rate / 4)) {
      throw new RangeError(
        `yin: need 0 < minHz < maxHz < rate/4 (${this.rate / 4} Hz), got ${minHz}..${maxHz}`,
      );
    }
    const threshold = o.threshold ?? 0.15;
    if (!(threshold > 0 && threshold < 1)) throw new RangeError("yin: threshold must be in (0, 1)");
    const silenceRms = o.silenceRms ?? 100;
    if (!(silenceRms >= 0)) throw new RangeError("yin: silenceRms must be ≥ 0");
    this.decimation = decimation;
    this.hop = FRAME_FRAMES / decimation;
    this.minLag = Math.max(2, Math.floor(this.rate / maxHz));
    this.maxLag = Math.ceil(this.rate / minHz);
    this.span = 2 * this.maxLag + 1;
    this.window = new Float64Array(this.span);
    this.diff = new Float64Array(this.maxLag + 2);
    this.raw = new Float64Array(this.maxLag + 2);
    this.threshold = threshold;
    this.earlyExit = o.earlyExit ?? true;
    this.silenceEnergy = silenceRms * silenceRms * this.span;
    this.windowMs = (this.span / this.rate) * 1000;
  }

  /** Forgets the audio seen so far (a seek, a new song): the next estimates wait for a full window. */
  clear(): void {
    this.filled = 0;
    this.window.fill(0);
  }

  /**
   * Takes one 48 kHz stereo frame (480 interleaved pairs) and returns the fundamental, Hz, of the window that
   * ends with it, or 0 when unvoiced (silence, noise, or the window not yet full).
   */
  detect(frame: Int16Array): number {
    assertFrame(frame, "yin frame");
    const x = this.window;
    const hop = this.hop;
    const span = this.span;
    const dec = this.decimation;
    x.copyWithin(0, hop);
    const scale = 1 / (2 * dec);
    for (let o = span - hop, i = 0; o < span; o++) {
      let s = 0;
      for (let k = 0; k < dec; k++, i += 2) s += frame[i]! + frame[i + 1]!;
      x[o] = s * scale;
    }
    this.filled = Math.min(span, this.filled + hop);
    if (this.filled < span) return 0;
    let energy = 0;
    for (let j = 0; j < span; j++) energy += x[j]! * x[j]!;
    if (energy < this.silenceEnergy) return 0;

    const d = this.diff;
    const raw = this.raw;
    const maxLag = this.maxLag;
    const w = maxLag;
    // Steps 2 and 3 in one pass: d(τ) = e0 + eτ − 2·r(τ) (energies of the two segments, eτ slid one sample per
    // τ, and their cross-correlation: one multiply-add per term against a subtract-multiply-add, four
    // accumulators so the adds pipeline), then d'(τ) in place from the running sum.
    let e0 = 0;
    for (let j = 0; j < w; j++) e0 += x[j]! * x[j]!;
    let et = e0;
    const w4 = w - (w % 4);
    d[0] = 1;
    let running = 0;
    const threshold = this.threshold;
    const minLag = this.minLag;
    const early = this.earlyExit;
    // Step 4 as the lags come: the answer is the first p >= minLag with d'(p) under the threshold and
    // d'(p + 1) >= d'(p) (the threshold crossing walked down to its minimum; maxLag if the descent reaches it),
    // so with `earlyExit` no lag past p + 1 is computed: the same estimate for a fraction of step 2 when the
    // voice is high (a 400 Hz note at 8 kHz needs 21 of 116 lags).
    let found = 0;
    for (let tau = 1; tau <= maxLag + 1; tau++) {
      et += x[tau + w - 1]! * x[tau + w - 1]! - x[tau - 1]! * x[tau - 1]!;
      let r0 = 0;
      let r1 = 0;
      let r2 = 0;
      let r3 = 0;
      let j = 0;
      for (; j < w4; j += 4) {
        r0 += x[j]! * x[j + tau]!;
        r1 += x[j + 1]! * x[j + 1 + tau]!;
        r2 += x[j + 2]! * x[j + 2 + tau]!;
        r3 += x[j + 3]! * x[j + 3 + tau]!;
      }
      for (; j < w; j++) r0 += x[j]! * x[j + tau]!;
      let s = e0 + et - 2 * (r0 + r1 + r2 + r3);
      if (s < 0) s = 0;
      raw[tau] = s;
      running += s;
      d[tau] = running > 0 ? (s * tau) / running : 1;
      const p = tau - 1;
      if (found === 0 && p >= minLag && d[p]! < threshold && (d[tau]! >= d[p]! || p === maxLag)) {
        found = p;
        if (early) break;
      }
    }
    if (found === 0) return 0;
    const tau = found;
    // Step 5.
    const a = raw[tau - 1]!;
    const b = raw[tau]!;
    const c = raw[tau + 1]!;
    const denom = a - 2 * b + c;
    const shift = denom > 0 ? (a - c) / (2 * denom) : 0;
    return this.rate / (tau + shift);
  }
}

/** A frequency as a fractional MIDI note number (A4 = 69 = 440 Hz); 0 for 0 Hz (unvoiced). */
export function hzToNote(hz: number): number {
  return hz > 0 ? 69 + 12 * Math.log2(hz / 440) : 0;
}
