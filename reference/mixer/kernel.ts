// The mixer's arithmetic, as plain scalar loops: the reference every faster kernel is tested against
// (frame-kernel.test.ts). Gains are integers in Q15 (32768 = unity, 65536 = 200%); a sample times a gain is
// an exact integer below 2^31 and sums of them stay exact in a double far past any realistic input count.
// Every output sample is
//   y = (clamp(Σ x_i · g_i, ACC_MIN, ACC_MAX) + 16384) >> 15
// i.e. saturated to int16 in the accumulator domain, then rounded half up (toward +∞ on exact halves) by an
// arithmetic shift. Saturating before the shift keeps it inside int32, so it can never wrap.
//
// Measured on this project's machine: one fused pass over all inputs (gain, sum, saturate, store) is ~3x
// faster than per-input float passes, and Math.round in the loop costs ~3.6x; hence the specialised
// 1..4-input kernels below and the shift instead of Math.round. More inputs, or the limiter, go through
// `accumulate` into a Float64Array of exact integers, then `saturate` or the limiter.
//
// What the Mixer runs per frame is faster and byte-identical (bench/mixer/publish-path.ts, 2 inputs at the
// pipeline's volumes, limiter on; the old path copy + accumulate + Limiter.process cost 15-19 µs a frame):
// - frame-kernel.ts: these loops reading inputs in place and returning the frame's peak, so a frame that
//   starts at unity limiter gain and peaks under the ceiling skips the limiter exactly (proof there): ~5 µs;
// - simd-kernel.ts: the loops in WebAssembly SIMD over audio in the thread's arena: mix2 (pmaddwd on interleaved
//   inputs, ga + gb <= 65535) ~0.2 µs a frame, ~0.5-0.7 of TypedArray.set over the same bytes against ~1% for
//   these JS loops; mixN for 1-4 inputs at any gains (~0.7 µs for 4, against ~7 µs for mix4 here).

export const GAIN_BITS = 15;
export const UNITY_GAIN = 1 << GAIN_BITS;
export const MAX_GAIN = 2 * UNITY_GAIN;
const HALF = 1 << (GAIN_BITS - 1);
export const ACC_MAX = 32767 * UNITY_GAIN + HALF - 1;
export const ACC_MIN = -32768 * UNITY_GAIN - HALF;

/** The SDK's volume (0..200, 100 = unity) as a Q15 gain, rounded to nearest: 1 → 328, 50 → 16384, 200 → 65536. */
export function volumeToGain(volume: number): number {
  if (!Number.isInteger(volume) || volume < 0 || volume > 200) {
    throw new RangeError(`volume must be an integer in 0..200, got ${volume}`);
  }
  return Math.floor((volume * UNITY_GAIN + 50) / 100);
}

export function mix1(out: Int16Array, n: number, a: Int16Array, ga: number): void {
  for (let i = 0; i < n; i++) {
    let acc = a[i]! * ga;
    if (acc > ACC_MAX) acc = ACC_MAX;
    else if (acc < ACC_MIN) acc = ACC_MIN;
    out[i] = (acc + HALF) >> GAIN_BITS;
  }
}

export function mix2(out: Int16Array, n: number, a: Int16Array, ga: number, b: Int16Array, gb: number): void {
  for (let i = 0; i < n; i++) {
    let acc = a[i]! * ga + b[i]! * gb;
    if (acc > ACC_MAX) acc = ACC_MAX;
    else if (acc < ACC_MIN) acc = ACC_MIN;
    out[i] = (acc + HALF) >> GAIN_BITS;
  }
}

export function mix3(
  out: Int16Array,
  n: number,
  a: Int16Array,
  ga: number,
  b: Int16Array,
  gb: number,
  c: Int16Array,
  gc: number,
): void {
  for (let i = 0; i < n; i++) {
    let acc = a[i]! * ga + b[i]! * gb + c[i]! * gc;
    if (acc > ACC_MAX) acc = ACC_MAX;
    else if (acc < ACC_MIN) acc = ACC_MIN;
    out[i] = (acc + HALF) >> GAIN_BITS;
  }
}

export function mix4(
  out: Int16Array,
  n: number,
  a: Int16Array,
  ga: number,
  b: Int16Array,
  gb: number,
  c: Int16Array,
  gc: number,
  d: Int16Array,
  gd: number,
): void {
  for (let i = 0; i < n; i++) {
    let acc = a[i]! * ga + b[i]! * gb + c[i]! * gc + d[i]! * gd;
    if (acc > ACC_MAX) acc = ACC_MAX;
    else if (acc < ACC_MIN) acc = ACC_MIN;
    out[i] = (acc + HALF) >> GAIN_BITS;
  }
}

/** acc[i] (+)= a[i]·g over n samples; `first` overwrites instead of adding, saving a clearing pass. */
export function accumulate(acc: Float64Array, n: number, a: Int16Array, g: number, first: boolean): void {
  if (first) {
    for (let i = 0; i < n; i++) acc[i] = a[i]! * g;
  } else {
    for (let i = 0; i < n; i++) acc[i]! += a[i]! * g;
  }
}

/** The kernels' output stage applied to an accumulator: saturate, round half up, store. */
export function saturate(out: Int16Array, n: number, acc: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let v = acc[i]!;
    if (v > ACC_MAX) v = ACC_MAX;
    else if (v < ACC_MIN) v = ACC_MIN;
    out[i] = (v + HALF) >> GAIN_BITS;
  }
}
