import { UNITY_GAIN as K_UNITY_GAIN } from "./kernel.ts";

// A module-local copy: hot loops read through an import binding ran several times slower under tsx (measured,
// see frame-kernel.ts).
const UNITY_GAIN = K_UNITY_GAIN;

// A look-ahead-free peak limiter on the mixer's accumulator (exact integers in Q15, stereo interleaved),
// specified to the sample so tests can compute its output by hand. State: gain g in Q15 (32768 = unity),
// starting at unity. For each stereo sample frame with accumulator values (L, R):
//   peak   = max(|L|, |R|)
//   target = peak > T·32768 ? floor(T·2^30 / peak) : 32768          (T = threshold in int16 units)
//   g      = target < g ? g − ((g − target)·attack  + 32767) >> 15   (attack, release in Q15; the ceiling
//          : target > g ? g + ((target − g)·release + 32767) >> 15    makes g always reach its target)
//          : g
//   y      = clamp(floor((x·g + 2^29) / 2^30), −32768, 32767)        for x in L, R
// Channels share one gain so the stereo image does not wander. With attack = 32768 (instant, the default) no
// output exceeds ±T; a slower attack lets the first samples of a transient through to the int16 saturation.
// x·g stays an exact integer in a double for up to 64 full-scale inputs at 200% gain.

export interface LimiterOptions {
  /** Ceiling in int16 units, 1..32767; default 29204 (−1 dBFS). */
  threshold?: number;
  /** Q15 share of the gap to the target closed per sample frame when reducing gain; 32768 (default) = instant. */
  attack?: number;
  /** Q15 share of the gap to unity recovered per sample frame; default 7 (time constant ≈ 100 ms at 48 kHz). */
  release?: number;
}

export const DEFAULT_LIMITER = { threshold: 29204, attack: 32768, release: 7 } as const;

const TWO_29 = 2 ** 29;
const TWO_30 = 2 ** 30;
const INV_TWO_30 = 2 ** -30;

function checkQ15(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1 || v > UNITY_GAIN)
    throw new RangeError(`limiter: ${name} must be an integer in 1..32768`);
  return v;
}

export class Limiter {
  readonly threshold: number;
  readonly attack: number;
  readonly release: number;
  /** The threshold in the accumulator domain (T·2^15): a frame whose peak stays at or below it, starting at
   * unity gain, passes unchanged (frame-kernel.ts proves it), so the Mixer skips `process` for it. */
  readonly ceiling: number;
  /** Current gain, Q15; exposed for meters and tests. */
  gain = UNITY_GAIN;

  constructor(opts: LimiterOptions = {}) {
    const t = opts.threshold ?? DEFAULT_LIMITER.threshold;
    if (!Number.isInteger(t) || t < 1 || t > 32767)
      throw new RangeError("limiter: threshold must be an integer in 1..32767");
    this.threshold = t;
    this.attack = checkQ15("attack", opts.attack ?? DEFAULT_LIMITER.attack);
    this.release = checkQ15("release", opts.release ?? DEFAULT_LIMITER.release);
    this.ceiling = t * UNITY_GAIN;
  }

  /** Limits `frames` stereo sample frames of `acc` into `out`. */
  process(out: Int16Array, frames: number, acc: Float64Array): void {
    const thr = this.ceiling;
    const attack = this.attack;
    const release = this.release;
    let g = this.gain;
    for (let k = 0, i = 0; k < frames; k++, i += 2) {
      const l = acc[i]!;
      const r = acc[i + 1]!;
      const al = l < 0 ? -l : l;
      const ar = r < 0 ? -r : r;
      const peak = Math.max(al, ar);
      const target = peak > thr ? Math.floor((thr * UNITY_GAIN) / peak) : UNITY_GAIN;
      if (target < g) g -= ((g - target) * attack + 32767) >> 15;
      else if (target > g) g += ((target - g) * release + 32767) >> 15;
      let yl = Math.floor((l * g + TWO_29) / TWO_30);
      let yr = Math.floor((r * g + TWO_29) / TWO_30);
      if (yl > 32767) yl = 32767;
      else if (yl < -32768) yl = -32768;
      if (yr > 32767) yr = 32767;
      else if (yr < -32768) yr = -32768;
      out[i] = yl;
      out[i + 1] = yr;
    }
    this.gain = g;
  }

  /**
   * `process` fused with the mix of two inputs read in place (one input: b = a, gb = 0): the accumulator values
   * a·ga + b·gb are computed on the fly instead of through a Float64Array, and the output's division by 2^30
   * is a multiplication by 2^-30, which is exact for these integers (< 2^53, a power-of-two scale). Same
   * outputs and gain as accumulate + `process` (frame-kernel.test.ts), about twice as fast on frames that need
   * limiting (bench/mixer/publish-path.ts, the loud case).
   */
  processMix2(
    out: Int16Array,
    frames: number,
    a: Int16Array,
    ao: number,
    ga: number,
    b: Int16Array,
    bo: number,
    gb: number,
  ): void {
    const thr = this.ceiling;
    const thrQ = thr * UNITY_GAIN;
    const attack = this.attack;
    const release = this.release;
    let g = this.gain;
    for (let k = 0, i = 0; k < frames; k++, i += 2) {
      const l = a[ao + i]! * ga + b[bo + i]! * gb;
      const r = a[ao + i + 1]! * ga + b[bo + i + 1]! * gb;
      const al = l < 0 ? -l : l;
      const ar = r < 0 ? -r : r;
      const peak = Math.max(al, ar);
      const target = peak > thr ? Math.floor(thrQ / peak) : UNITY_GAIN;
      if (target < g) g -= ((g - target) * attack + 32767) >> 15;
      else if (target > g) g += ((target - g) * release + 32767) >> 15;
      let yl = Math.floor((l * g + TWO_29) * INV_TWO_30);
      let yr = Math.floor((r * g + TWO_29) * INV_TWO_30);
      if (yl > 32767) yl = 32767;
      else if (yl < -32768) yl = -32768;
      if (yr > 32767) yr = 32767;
      else if (yr < -32768) yr = -32768;
      out[i] = yl;
      out[i + 1] = yr;
    }
    this.gain = g;
  }

  reset(): void {
    this.gain = UNITY_GAIN;
  }
}
