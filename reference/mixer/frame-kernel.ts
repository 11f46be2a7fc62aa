import { ACC_MAX as K_ACC_MAX, ACC_MIN as K_ACC_MIN } from "./kernel.ts";

// Module-local copies: read through the import binding inside the loops, the same kernels ran ~7x slower under
// tsx (55 µs instead of 8 µs a frame, measured); a local const is folded into the optimised loop.
const ACC_MAX = K_ACC_MAX;
const ACC_MIN = K_ACC_MIN;

// The kernels the Mixer runs on every 10 ms frame. Same arithmetic as kernel.ts (which stays the plain scalar
// reference, and the tests compare against it): y = (clamp(Σ x_i·g_i, ACC_MIN, ACC_MAX) + 2^14) >> 15. Two
// things differ, both measured on this project's 2-core EPYC (Node 20, `npx tsx bench/mixer/publish-path.ts`):
//
// 1. Inputs are read in place, at an offset into the array that holds them (a shared decoded song, a
//    pre-rendered voice), instead of first being copied frame by frame into a per-input buffer. A JS copy loop
//    of one frame costs about as much as the mixing loop itself (~2 µs here), and `set(pcm.subarray())` would
//    allocate a view per frame.
// 2. Each kernel also returns the frame's peak |Σ x_i·g_i| (before saturation). That is what lets the limiter
//    be skipped exactly. With the limiter on, every frame used to go accumulate (Float64Array) ->
//    Limiter.process, two float divisions per sample: ~8 µs of a ~17 µs frame. But when the limiter's gain is
//    at unity when the frame starts and the frame's peak is <= its ceiling T·2^15, its output IS this kernel's:
//      - every sample frame has peak <= T·2^15, so its target is unity, which equals g: g stays unity all
//        frame (no attack, no release step), and the limiter ends the frame at unity as it started;
//      - y = clamp(floor((x·2^15 + 2^29) / 2^30)) = clamp(floor((x + 2^14) / 2^15)); |x| <= T·2^15 with
//        T <= 32767 puts that in -32767..32767, so the clamp never acts;
//      - the same |x| bound is inside [ACC_MIN, ACC_MAX], so this kernel's saturation never acts either, and
//        x + 2^14 < 2^31 keeps the shift exact: (x + 2^14) >> 15 = floor((x + 2^14) / 2^15).
//    (frame-kernel.test.ts checks this against Limiter.process, frame to frame.) So the Mixer runs this kernel
//    first and falls back to the limiter (Limiter.processMix2 for 1-2 inputs, else accumulate + process) only
//    for a frame whose peak exceeds the ceiling or that starts with the gain below unity (the limiter working,
//    or recovering). At the pipeline's levels (accompaniment 60 + the synthetic voice at 100) that never
//    happened in the bench's material; when it happens the frame costs both passes.
//
// Sums are computed in doubles holding exact integers (x·g <= 2^31, four inputs <= 2^33): V8 keeps them in
// int32 registers while they fit and in float64 when they do not, with the same values either way. Measured
// alternatives that did not pay here: packing two samples per Int32Array load (same speed), Math.imul/|0
// int32 accumulation (same speed, and wrong past Σg = 65535). The JS floor is about 1.5-2 ns per sample on this
// machine, so a fused 2-input frame runs at a few percent of TypedArray.prototype.set; getting near the memory
// bound takes SIMD: simd-kernel.ts, which the Mixer prefers for 1-4 inputs whose samples it can read.

/** mix of one input read at `ao`; returns the frame's peak |a·ga| before saturation. */
export function mixAt1(out: Int16Array, n: number, a: Int16Array, ao: number, ga: number): number {
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < n; i++) {
    let acc = a[ao + i]! * ga;
    if (acc > hi) hi = acc;
    else if (acc < lo) lo = acc;
    if (acc > ACC_MAX) acc = ACC_MAX;
    else if (acc < ACC_MIN) acc = ACC_MIN;
    out[i] = (acc + 16384) >> 15;
  }
  return hi > -lo ? hi : 0 - lo;
}

export function mixAt2(
  out: Int16Array,
  n: number,
  a: Int16Array,
  ao: number,
  ga: number,
  b: Int16Array,
  bo: number,
  gb: number,
): number {
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < n; i++) {
    let acc = a[ao + i]! * ga + b[bo + i]! * gb;
    if (acc > hi) hi = acc;
    else if (acc < lo) lo = acc;
    if (acc > ACC_MAX) acc = ACC_MAX;
    else if (acc < ACC_MIN) acc = ACC_MIN;
    out[i] = (acc + 16384) >> 15;
  }
  return hi > -lo ? hi : 0 - lo;
}

export function mixAt3(
  out: Int16Array,
  n: number,
  a: Int16Array,
  ao: number,
  ga: number,
  b: Int16Array,
  bo: number,
  gb: number,
  c: Int16Array,
  co: number,
  gc: number,
): number {
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < n; i++) {
    let acc = a[ao + i]! * ga + b[bo + i]! * gb + c[co + i]! * gc;
    if (acc > hi) hi = acc;
    else if (acc < lo) lo = acc;
    if (acc > ACC_MAX) acc = ACC_MAX;
    else if (acc < ACC_MIN) acc = ACC_MIN;
    out[i] = (acc + 16384) >> 15;
  }
  return hi > -lo ? hi : 0 - lo;
}

export function mixAt4(
  out: Int16Array,
  n: number,
  a: Int16Array,
  ao: number,
  ga: number,
  b: Int16Array,
  bo: number,
  gb: number,
  c: Int16Array,
  co: number,
  gc: number,
  d: Int16Array,
  dOff: number,
  gd: number,
): number {
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < n; i++) {
    let acc = a[ao + i]! * ga + b[bo + i]! * gb + c[co + i]! * gc + d[dOff + i]! * gd;
    if (acc > hi) hi = acc;
    else if (acc < lo) lo = acc;
    if (acc > ACC_MAX) acc = ACC_MAX;
    else if (acc < ACC_MIN) acc = ACC_MIN;
    out[i] = (acc + 16384) >> 15;
  }
  return hi > -lo ? hi : 0 - lo;
}

/** acc[i] (+)= a[ao + i]·g over n samples (kernel.ts's `accumulate`, reading in place). */
export function accumulateAt(
  acc: Float64Array,
  n: number,
  a: Int16Array,
  ao: number,
  g: number,
  first: boolean,
): void {
  if (first) {
    for (let i = 0; i < n; i++) acc[i] = a[ao + i]! * g;
  } else {
    for (let i = 0; i < n; i++) acc[i]! += a[ao + i]! * g;
  }
}
