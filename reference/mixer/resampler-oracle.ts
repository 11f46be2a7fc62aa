// The resampler as it was before its FIR moved to WebAssembly SIMD (resampler.ts at c388bff), kept unchanged
// but for this header and the class name as the oracle resampler.test.ts compares the current one against,
// sample for sample. Not used outside tests.

import { CHANNELS, SAMPLE_RATE } from "./frame.ts";

// Streaming rational resampler from any rate/channel count to the mixer's 48 kHz stereo: a polyphase
// Kaiser-windowed-sinc FIR whose kernel is pure integer math, so output is bit-exact across runs and chunkings.
//
// Time is exact rational arithmetic: with out/in reduced to L/M, output n sits at input time n·M/L, kept as an
// integer index i plus an integer phase p in [0, L). Nothing accumulates rounding, so K input frames always
// give exactly ceil(K·L/M) output frames however long the stream. Output n is
//   y[n] = Σ_j x[i − T/2 + 1 + j] · c[p][j]   (j = 0..T−1, c in Q15, each branch summing to exactly 32768)
// saturated to the int16 range in the accumulator domain, then rounded half-up with `(acc + 16384) >> 15`.
// Branches that sum to exactly unity make DC pass bit-exactly. The accumulator is an exact integer held in a
// double (products < 2^31, sums far below 2^53); saturating before the shift keeps the shift inside int32.
//
// Coefficients come from float math once per instance (Math.sin/exp, deterministic in V8) and are quantized;
// the per-sample path touches only integers. When L exceeds MAX_PHASES (a rate sharing few factors with 48 kHz,
// e.g. 44,099 Hz) the phase is quantized to 1/MAX_PHASES of an input sample; the timing stays exact, only the
// interpolation position jitters by < 1/1024 sample (measured by a test as an error floor under −60 dB).
//
// Quality (32 taps, cutoff 0.91 of the lower rate's Nyquist, Kaiser β = 7.5), asserted in resampler.test.ts for
// the CDN tiers (8 kHz, 10 kHz, 44.1 kHz): gain flat within 0.01 dB up to 0.3·fs_in, −0.13 dB at 0.4·fs_in,
// −4.9 dB at 0.45·fs_in (the transition band); everything that is not the input sine (images, aliases,
// rounding) stays below −70 dB (measured −72..−85 dB). Down-sampling (96 kHz) keeps content above 24 kHz more
// than 60 dB down. Cost on this project's 2-core machine: ~45 µs per 10 ms output frame (~0.5% of a core).
// Output n is aligned to input time n·M/L: the only latency is the T/2 input frames the filter looks ahead.

export const DEFAULT_TAPS = 32;
const CUTOFF = 0.91;
const KAISER_BETA = 7.5;
const MAX_PHASES = 1024;
const Q = 15;
const ONE = 1 << Q;
const HALF = 1 << (Q - 1);
// Saturating in the accumulator domain keeps the rounding shift inside int32 whatever the branch's gain.
const ACC_MAX = 32767 * ONE + HALF - 1;
const ACC_MIN = -32768 * ONE - HALF;
const MIN_RATE = 1000;
const MAX_RATE = 384_000;

export interface ResamplerOptions {
  /** FIR taps per polyphase branch when up-sampling (scaled by M/L when down-sampling); even, 4..256. */
  taps?: number;
  /** Which input channels become output left and right; default mono → [0, 0], otherwise [0, 1]. */
  channelMap?: readonly [number, number];
  /** Largest number of input frames one `write` can take; sets the input buffer's size. */
  maxChunkFrames?: number;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind, for the Kaiser window. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 64; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/**
 * Tables already designed, by shape: a 44.1 kHz table (160 x 32) takes ~2 ms to design, and shared audio
 * (reference/audio) makes a resampler per rendered chunk when threads take turns. Tables are never written
 * after design, so one per shape serves every instance.
 */
const designed = new Map<string, Int32Array>();

function branchesFor(phases: number, taps: number, up: number, down: number): Int32Array {
  const key = `${phases}/${taps}/${up}/${down}`;
  let t = designed.get(key);
  if (!t) {
    t = designBranches(phases, taps, up / down);
    designed.set(key, t);
  }
  return t;
}

/**
 * Quantized polyphase table: `phases` branches of `taps` Q15 coefficients. Branch q interpolates at fraction
 * q/phases of an input sample; coefficient j weights input i − taps/2 + 1 + j.
 */
function designBranches(phases: number, taps: number, ratio: number): Int32Array {
  const rho = CUTOFF * Math.min(1, ratio);
  const half = taps / 2;
  const i0Beta = besselI0(KAISER_BETA);
  const table = new Int32Array(phases * taps);
  const real = new Float64Array(taps);
  for (let q = 0; q < phases; q++) {
    const frac = q / phases;
    let sum = 0;
    for (let j = 0; j < taps; j++) {
      const t = half - 1 - j + frac; // distance (input samples) from the output instant to input tap j
      const x = t / half;
      const w = Math.abs(x) >= 1 ? 0 : besselI0(KAISER_BETA * Math.sqrt(1 - x * x)) / i0Beta;
      const arg = Math.PI * rho * t;
      real[j] = (t === 0 ? rho : Math.sin(arg) / (Math.PI * t)) * w;
      sum += real[j]!;
    }
    // Normalize each branch to unity DC gain, quantize, then put the rounding residue on the largest tap so the
    // integer branch sums to exactly ONE (DC passes bit-exactly, no phase-dependent DC ripple).
    let isum = 0;
    let peak = 0;
    for (let j = 0; j < taps; j++) {
      const c = Math.round((real[j]! / sum) * ONE);
      table[q * taps + j] = c;
      isum += c;
      if (Math.abs(c) > Math.abs(table[q * taps + peak]!)) peak = j;
    }
    table[q * taps + peak]! += ONE - isum;
  }
  return table;
}

/**
 * One stream's resampler. Feed input with `write` (copies into an internal buffer sized at construction),
 * drain 48 kHz stereo with `read`; call `end` after the last input so the filter's tail comes out.
 */
export class OracleResampler {
  readonly inRate: number;
  readonly inChannels: number;
  /** Output/input rate ratio reduced: L output frames per M input frames. */
  readonly up: number;
  readonly down: number;
  readonly taps: number;
  private readonly phases: number;
  private readonly coeffs: Int32Array;
  private readonly left: number;
  private readonly right: number;
  /** Mapped stereo input, interleaved; frame k of the buffer is absolute input frame bufStart + k. */
  private readonly buf: Int16Array;
  private readonly capacity: number;
  private bufStart: number;
  private bufLen: number;
  /** Next output's input index and phase: it sits at input time idx + phase/up. */
  private idx = 0;
  private phase = 0;
  private inputFrames = 0;
  private outputFrames = 0;
  private ending = false;

  constructor(inRate: number, inChannels: number, opts: ResamplerOptions = {}) {
    if (!Number.isInteger(inRate) || inRate < MIN_RATE || inRate > MAX_RATE) {
      throw new RangeError(
        `resampler: sample rate must be an integer in ${MIN_RATE}..${MAX_RATE}, got ${inRate}`,
      );
    }
    if (!Number.isInteger(inChannels) || inChannels < 1 || inChannels > 32) {
      throw new RangeError(`resampler: channels must be an integer in 1..32, got ${inChannels}`);
    }
    const map = opts.channelMap ?? (inChannels === 1 ? [0, 0] : [0, 1]);
    for (const c of map) {
      if (!Number.isInteger(c) || c < 0 || c >= inChannels) {
        throw new RangeError(`resampler: channel map entry ${c} outside 0..${inChannels - 1}`);
      }
    }
    const baseTaps = opts.taps ?? DEFAULT_TAPS;
    if (!Number.isInteger(baseTaps) || baseTaps < 4 || baseTaps > 256 || baseTaps % 2 !== 0) {
      throw new RangeError(`resampler: taps must be an even integer in 4..256, got ${baseTaps}`);
    }
    const g = gcd(SAMPLE_RATE, inRate);
    this.inRate = inRate;
    this.inChannels = inChannels;
    this.up = SAMPLE_RATE / g;
    this.down = inRate / g;
    // Down-sampling narrows the passband to the output's Nyquist, so the kernel widens by M/L to keep its shape.
    const widen = Math.max(1, this.down / this.up);
    this.taps = 2 * Math.ceil((baseTaps * widen) / 2);
    this.phases = Math.min(this.up, MAX_PHASES);
    this.coeffs = this.identity()
      ? new Int32Array(0)
      : branchesFor(this.phases, this.taps, this.up, this.down);
    this.left = map[0];
    this.right = map[1];
    const chunk = opts.maxChunkFrames ?? 4096;
    if (!Number.isInteger(chunk) || chunk < 1) throw new RangeError("resampler: maxChunkFrames must be ≥ 1");
    // Room for a full chunk on top of the filter's history and the zero tail `end` appends.
    this.capacity = chunk + 2 * this.taps;
    this.buf = new Int16Array(this.capacity * CHANNELS);
    // Inputs before the stream start are silence: prime the history so output 0 is centred on input 0.
    this.bufStart = 1 - this.taps / 2;
    this.bufLen = this.taps / 2 - 1;
  }

  private identity(): boolean {
    return this.up === 1 && this.down === 1;
  }

  /** Input frames `write` can accept right now. */
  writable(): number {
    if (this.ending) return 0;
    const keepFrom = this.idx - this.taps / 2 + 1;
    const used = this.bufStart + this.bufLen - keepFrom;
    return this.capacity - this.taps - used;
  }

  /**
   * Copies up to `frames` interleaved input frames (inChannels each) from `input`, mapped to stereo; returns
   * how many it took (fewer when the buffer is full: `read` first).
   */
  write(input: Int16Array, frames: number): number {
    if (frames * this.inChannels > input.length) throw new RangeError("resampler: frames exceeds input");
    const n = Math.min(frames, this.writable());
    if (n <= 0) return 0;
    this.compact();
    const buf = this.buf;
    const ch = this.inChannels;
    const l = this.left;
    const r = this.right;
    let o = this.bufLen * CHANNELS;
    for (let k = 0; k < n; k++) {
      const base = k * ch;
      buf[o++] = input[base + l]!;
      buf[o++] = input[base + r]!;
    }
    this.bufLen += n;
    this.inputFrames += n;
    return n;
  }

  /** No more input: zero-pads the future so every output up to the last input's time can be produced. */
  end(): void {
    if (this.ending) return;
    this.compact();
    const from = this.bufLen * CHANNELS;
    this.buf.fill(0, from, from + this.taps * CHANNELS);
    this.bufLen += this.taps;
    this.ending = true;
  }

  /** True once `end` was called and every output frame has been read. */
  get drained(): boolean {
    return this.ending && this.outputFrames >= this.totalOutputFrames();
  }

  /** Output frames the input written so far maps to: ceil(inputFrames · L / M). */
  totalOutputFrames(): number {
    return Math.ceil((this.inputFrames * this.up) / this.down);
  }

  /**
   * Writes up to `maxFrames` stereo 48 kHz frames into `out` starting at frame `offset`; returns how many
   * (0 when more input is needed, or when drained).
   */
  read(out: Int16Array, offset: number, maxFrames: number): number {
    if ((offset + maxFrames) * CHANNELS > out.length)
      throw new RangeError("resampler: output buffer too small");
    const half = this.taps / 2;
    // The newest input frame present, and the most outputs the written input can ever produce.
    const lastIn = this.bufStart + this.bufLen - 1;
    let limit = maxFrames;
    if (this.ending) limit = Math.min(limit, this.totalOutputFrames() - this.outputFrames);
    if (this.identity()) return this.readIdentity(out, offset, Math.min(limit, lastIn - this.idx + 1));
    if (this.left === this.right) return this.readMirrored(out, offset, limit, lastIn);
    const buf = this.buf;
    const coeffs = this.coeffs;
    const taps = this.taps;
    const up = this.up;
    const down = this.down;
    const phases = this.phases;
    const quantized = phases !== up;
    const start = this.bufStart;
    let idx = this.idx;
    let phase = this.phase;
    let o = offset * CHANNELS;
    let made = 0;
    while (made < limit && idx + half <= lastIn) {
      const branch = (quantized ? ((phase * phases) / up) | 0 : phase) * taps;
      let a = ((idx - half + 1 - start) * CHANNELS) | 0;
      let accL = 0;
      let accR = 0;
      for (let j = 0; j < taps; j++) {
        const c = coeffs[branch + j]!;
        accL += buf[a]! * c;
        accR += buf[a + 1]! * c;
        a += 2;
      }
      if (accL > ACC_MAX) accL = ACC_MAX;
      else if (accL < ACC_MIN) accL = ACC_MIN;
      if (accR > ACC_MAX) accR = ACC_MAX;
      else if (accR < ACC_MIN) accR = ACC_MIN;
      out[o++] = (accL + HALF) >> Q;
      out[o++] = (accR + HALF) >> Q;
      made++;
      phase += down;
      if (phase >= up) {
        const q = (phase / up) | 0;
        idx += q;
        phase -= q * up;
      }
    }
    this.idx = idx;
    this.phase = phase;
    this.outputFrames += made;
    return made;
  }

  /**
   * read() for a source whose left and right are the same channel (mono, the CDN's tiers): one dot product per
   * output frame instead of two, the same arithmetic, so the result is bit-identical to the two-channel loop.
   * Measured (`npx tsx bench/mixer/resampler-read.ts --rounds 5 --seconds 10`, load ~15): 8 kHz mono -> 48 kHz
   * stereo 7.5 -> 4.2 ms CPU per output second (1.8x), 44.1 kHz 5.8 -> 3.4 ms.
   */
  private readMirrored(out: Int16Array, offset: number, limit: number, lastIn: number): number {
    const half = this.taps / 2;
    const buf = this.buf;
    const coeffs = this.coeffs;
    const taps = this.taps;
    const up = this.up;
    const down = this.down;
    const phases = this.phases;
    const quantized = phases !== up;
    const start = this.bufStart;
    let idx = this.idx;
    let phase = this.phase;
    let o = offset * CHANNELS;
    let made = 0;
    while (made < limit && idx + half <= lastIn) {
      const branch = (quantized ? ((phase * phases) / up) | 0 : phase) * taps;
      let a = ((idx - half + 1 - start) * CHANNELS) | 0;
      // Four partial sums (taps is even, and a multiple of 4 unless set otherwise): integer products summed in
      // doubles are exact in any order, so splitting the sum changes no bit.
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let j = 0;
      for (; j + 3 < taps; j += 4) {
        const c = branch + j;
        s0 += buf[a]! * coeffs[c]!;
        s1 += buf[a + 2]! * coeffs[c + 1]!;
        s2 += buf[a + 4]! * coeffs[c + 2]!;
        s3 += buf[a + 6]! * coeffs[c + 3]!;
        a += 8;
      }
      for (; j < taps; j++) {
        s0 += buf[a]! * coeffs[branch + j]!;
        a += 2;
      }
      let acc = s0 + s1 + s2 + s3;
      if (acc > ACC_MAX) acc = ACC_MAX;
      else if (acc < ACC_MIN) acc = ACC_MIN;
      const v = (acc + HALF) >> Q;
      out[o++] = v;
      out[o++] = v;
      made++;
      phase += down;
      if (phase >= up) {
        const q = (phase / up) | 0;
        idx += q;
        phase -= q * up;
      }
    }
    this.idx = idx;
    this.phase = phase;
    this.outputFrames += made;
    return made;
  }

  private readIdentity(out: Int16Array, offset: number, n: number): number {
    if (n <= 0) return 0;
    const buf = this.buf;
    let a = (this.idx - this.bufStart) * CHANNELS;
    let o = offset * CHANNELS;
    for (let k = 0; k < n * CHANNELS; k++) out[o++] = buf[a++]!;
    this.idx += n;
    this.outputFrames += n;
    return n;
  }

  /** Drops history the filter no longer needs by moving the live window to the buffer's start. */
  private compact(): void {
    const keepFrom = this.idx - this.taps / 2 + 1;
    const drop = keepFrom - this.bufStart;
    if (drop <= 0) return;
    this.buf.copyWithin(0, drop * CHANNELS, this.bufLen * CHANNELS);
    this.bufStart = keepFrom;
    this.bufLen -= drop;
  }
}
