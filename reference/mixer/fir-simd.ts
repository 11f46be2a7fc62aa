// The resampler's polyphase FIR (resampler.ts) in WebAssembly SIMD: the same integer sums, 8 taps per
// instruction, bit-identical output.
//
// Why: rendering a song's accompaniment is one 32-tap dot product per 48 kHz output frame; in JS that loop ran
// at ~85 ns per output frame (4.2 ms of CPU per second of audio, 8 kHz mono, resampler.ts readMirrored) and was
// 12-16% of a load worker's CPU in a 300-VU rooms-250 profile, almost all of it in the first minute, when every
// (song, tier, track) is rendered for the first time and the harness's CPU saturates.
//
// Arithmetic: output y = clamp(Σ_j x[j]·c[j], ACC_MIN, ACC_MAX), then (y + 2^14) >> 15, as resampler.ts. Here
// the products are summed by i32x4.dot_i16x8_s (x and c as i16, each pair of products added into an i32 lane;
// lane k collects taps j with j mod 8 in {2k, 2k + 1}), the blocks of 8 taps by i32x4.add, and the four lanes
// in i64: a different order than the JS loop, and integers instead of doubles. Exact while no i32 lane wraps:
// every sum a lane ever holds is a sum over a subset of its taps, so |lane| <= 32768·Σ_lane|c|, and the kernel
// takes a table only when every coefficient is an i16 and each lane's Σ|c| <= 65535 in every branch
// (32768·65535 < 2^31). A whole branch may not fit an i32 (the CDN's 32-tap tables have Σ|c| up to 66,180:
// 32768·66180 > 2^31 for an input that matches every sign), hence the i64 for the last three adds. Integer
// sums that never round or wrap are the same in any order: the output is the JS loop's, bit for bit
// (resampler.test.ts compares both, and the implementation before this kernel, on random and full-scale input
// and on rendered songs). The clamp is done in i64 on the same value, the add and arithmetic shift in i32 on
// the clamped one, as in JS. Every table the resampler designs at its default taps passes (the test checks
// the CDN's rates and 96 kHz); one that does not stays on the JS loop.
//
// Layout: branches are zero-padded to a multiple of 8 taps (a zero coefficient adds exactly 0, whatever the
// input it meets); the input is a planar window of the resampler's buffer copied into the kernel's memory (the
// first tap of the first output at index 0); the output is written as one 32-bit word per frame, left in the low
// half. One kernel and one memory per thread, modules per tap count (unrolled), tables written once per shape
// and never freed (a handful per process: one per rate pair). The module is assembled below from its opcodes,
// as simd-kernel.ts does; where WebAssembly SIMD is missing `firSimd()` returns null and the resampler stays
// on its JS loops.

import {
  importedMemory,
  leb,
  section,
  simd,
  sleb,
  str,
  WASM_HEADER,
  type WasmMemory,
  wasm,
} from "./wasm-bytes.ts";

const PAGE = 65_536;
const MAX_PAGES = 1024; // 64 MiB of address space; a table is at most 1024 x 64 x 2 bytes
/** Output frames per kernel call: a shared-audio chunk (100 ms) in one. */
export const FIR_BLOCK = 4800;
/** Padded taps the unrolled modules go up to (16 SIMD blocks); wider filters stay on the JS loop. */
export const FIR_MAX_TAPS = 128;
/** Input frames per plane in the scratch window: a block at the steepest down-sampling (8:1) plus the taps. */
const IN_FRAMES = FIR_BLOCK * 8 + FIR_MAX_TAPS + 16;

const Q = 15;
const ONE = 1 << Q;
const HALF = 1 << (Q - 1);
const ACC_MAX = 32767 * ONE + HALF - 1;
const ACC_MIN = -32768 * ONE - HALF;

/**
 * The module for `taps` (a multiple of 8, <= FIR_MAX_TAPS): exports
 *   fir1(src, coef, phase, up, down, phases, quant, n, dst)         one plane, written to both channels
 *   fir2(srcL, srcR, coef, phase, up, down, phases, quant, n, dst)  two planes
 * Output k sits at window index idx_k (idx_0 = 0) and phase p_k; its branch is p_k, or p_k·phases/up when the
 * phase is quantized (quant = 1); then p += down, and while p >= up: p -= up, idx += 1 (resampler.ts read()).
 */
function moduleBytes(taps: number): Uint8Array {
  const blocks = taps / 8;
  const get = (l: number) => [0x20, l];
  const set = (l: number) => [0x21, l];
  const tee = (l: number) => [0x22, l];
  const i32const = (n: number) => [0x41, ...sleb(n)];
  const ADD = [0x6a];
  const SUB = [0x6b];
  const MUL = [0x6c];
  const DIV_U = [0x6e];
  const AND = [0x71];
  const OR = [0x72];
  const SHL = [0x74];
  const SHR_S = [0x75];
  const EQZ = [0x45];
  const LT_U = [0x49];
  const SELECT = [0x1b];
  const V128_LOAD = (offset: number) => [...simd(0x00), 1, ...leb(offset)]; // align 2^1: i16 data
  const DOT = simd(0xba); // i32x4.dot_i16x8_s
  const V_ADD = simd(0xae); // i32x4.add
  const EXTEND_LOW = simd(0xc7); // i64x2.extend_low_i32x4_s
  const EXTEND_HIGH = simd(0xc8); // i64x2.extend_high_i32x4_s
  const I64X2_ADD = simd(0xce);
  const lane64 = (k: number) => [...simd(0x1d), k]; // i64x2.extract_lane
  const i64const = (n: number) => [0x42, ...sleb(n)];
  const I64_ADD = [0x7c];
  const I64_GT_S = [0x55];
  const I64_LT_S = [0x53];
  const WRAP = [0xa7]; // i32.wrap_i64

  function body(stereo: boolean): number[] {
    // Params, then locals: idx, cp (coefficient address), off (window byte offset), vl (i32); acc (i64); lanes
    // (v128).
    const SRC_L = 0;
    const SRC_R = 1;
    const p0 = stereo ? 2 : 1;
    const COEF = p0;
    const PHASE = p0 + 1;
    const UP = p0 + 2;
    const DOWN = p0 + 3;
    const PHASES = p0 + 4;
    const QUANT = p0 + 5;
    const N = p0 + 6;
    const DST = p0 + 7;
    const IDX = p0 + 8;
    const CP = p0 + 9;
    const OFF = p0 + 10;
    const VL = p0 + 11;
    const ACC = p0 + 12;
    const LANES = p0 + 13;
    /** One channel's output sample from the plane at `src`, left on the stack. */
    const channel = (src: number) => {
      const code: number[] = [];
      for (let b = 0; b < blocks; b++) {
        code.push(...get(src), ...get(OFF), ...ADD, ...V128_LOAD(16 * b), ...get(CP), ...V128_LOAD(16 * b));
        code.push(...DOT);
        if (b > 0) code.push(...V_ADD);
      }
      // The four i32 lanes summed in i64: a branch's whole sum can exceed the i32 range, a lane's cannot.
      code.push(...tee(LANES), ...EXTEND_LOW, ...get(LANES), ...EXTEND_HIGH, ...I64X2_ADD, ...tee(LANES));
      code.push(...lane64(0), ...get(LANES), ...lane64(1), ...I64_ADD, ...set(ACC));
      // acc = acc > ACC_MAX ? ACC_MAX : acc; then acc < ACC_MIN ? ACC_MIN : acc; then (acc + HALF) >> 15 in i32.
      code.push(...i64const(ACC_MAX), ...get(ACC), ...get(ACC), ...i64const(ACC_MAX), ...I64_GT_S, ...SELECT);
      code.push(...set(ACC));
      code.push(...i64const(ACC_MIN), ...get(ACC), ...get(ACC), ...i64const(ACC_MIN), ...I64_LT_S, ...SELECT);
      code.push(...WRAP, ...i32const(HALF), ...ADD, ...i32const(Q), ...SHR_S);
      return code;
    };
    const code = [
      ...i32const(0),
      ...set(IDX),
      0x02,
      0x40, // block $done
      0x03,
      0x40, // loop $next
      ...get(N),
      ...EQZ,
      0x0d,
      1, // br_if $done
      ...get(QUANT),
      0x04,
      0x7f, // if (result i32)
      ...get(PHASE),
      ...get(PHASES),
      ...MUL,
      ...get(UP),
      ...DIV_U,
      0x05, // else
      ...get(PHASE),
      0x0b, // end if
      ...i32const(taps * 2),
      ...MUL,
      ...get(COEF),
      ...ADD,
      ...set(CP),
      ...get(IDX),
      ...i32const(1),
      ...SHL,
      ...set(OFF),
      ...channel(SRC_L),
      ...set(VL),
      ...get(DST),
      ...get(VL),
      ...i32const(0xffff),
      ...AND,
      ...(stereo ? channel(SRC_R) : get(VL)),
      ...i32const(16),
      ...SHL,
      ...OR,
      0x36,
      1,
      0, // i32.store align 2^1 offset 0
      ...get(DST),
      ...i32const(4),
      ...ADD,
      ...set(DST),
      ...get(PHASE),
      ...get(DOWN),
      ...ADD,
      ...set(PHASE),
      0x02,
      0x40, // block $stepped
      0x03,
      0x40, // loop $step
      ...get(PHASE),
      ...get(UP),
      ...LT_U,
      0x0d,
      1, // br_if $stepped
      ...get(PHASE),
      ...get(UP),
      ...SUB,
      ...set(PHASE),
      ...get(IDX),
      ...i32const(1),
      ...ADD,
      ...set(IDX),
      0x0c,
      0, // br $step
      0x0b,
      0x0b, // end loop, end block
      ...get(N),
      ...i32const(1),
      ...SUB,
      ...set(N),
      0x0c,
      0, // br $next
      0x0b,
      0x0b, // end loop, end block
      0x0b, // end func
    ];
    const locals = [3, 4, 0x7f, 1, 0x7e, 1, 0x7b]; // 4 x i32, 1 x i64, 1 x v128
    return [...locals, ...code];
  }

  const i32s = (n: number) => [n, ...new Array<number>(n).fill(0x7f)];
  const b1 = body(false);
  const b2 = body(true);
  const bytes = [
    ...WASM_HEADER,
    ...section(1, [2, 0x60, ...i32s(9), 0, 0x60, ...i32s(10), 0]),
    ...importedMemory(MAX_PAGES),
    ...section(3, [2, 0, 1]),
    ...section(7, [2, ...str("fir1"), 0x00, 0, ...str("fir2"), 0x00, 1]),
    ...section(10, [2, ...leb(b1.length), ...b1, ...leb(b2.length), ...b2]),
  ];
  return Uint8Array.from(bytes);
}

type Fir1 = (
  src: number,
  coef: number,
  phase: number,
  up: number,
  down: number,
  phases: number,
  quant: number,
  n: number,
  dst: number,
) => void;
type Fir2 = (
  srcL: number,
  srcR: number,
  coef: number,
  phase: number,
  up: number,
  down: number,
  phases: number,
  quant: number,
  n: number,
  dst: number,
) => void;

/** A polyphase table in the kernel's memory and the functions for its (padded) width. */
export interface FirTable {
  readonly address: number;
  readonly paddedTaps: number;
  readonly fir1: Fir1;
  readonly fir2: Fir2;
}

/**
 * Whether `coeffs` (phases x taps, Q15) can be summed in i32 lanes without wrapping (see the header): every
 * coefficient an i16, and in every branch, for each of the 4 lanes (taps j with j mod 8 in {2k, 2k + 1}),
 * Σ|c| <= 65535.
 */
export function simdExact(coeffs: Int32Array, phases: number, taps: number): boolean {
  const lanes = new Float64Array(4);
  for (let q = 0; q < phases; q++) {
    lanes.fill(0);
    for (let j = 0; j < taps; j++) {
      const c = coeffs[q * taps + j]!;
      if (c < -32768 || c > 32767) return false;
      lanes[(j % 8) >> 1]! += Math.abs(c);
    }
    for (const l of lanes) if (l > 65_535) return false;
  }
  return true;
}

/** The thread's FIR kernel: its memory, the scratch window and output, the tables and modules made so far. */
export class FirSimd {
  private readonly memory: WasmMemory;
  private readonly fns = new Map<number, { fir1: Fir1; fir2: Fir2 }>();
  private readonly tables = new WeakMap<Int32Array, FirTable | null>();
  private top: number;
  /** Scratch: the left (or only) plane, the right plane, the output words. */
  readonly inL: Int16Array;
  readonly inR: Int16Array;
  readonly out: Int32Array;
  readonly inLAt: number;
  readonly inRAt: number;
  readonly outAt: number;

  constructor() {
    this.memory = new wasm!.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    this.top = 0;
    this.inLAt = this.alloc(IN_FRAMES * 2);
    this.inRAt = this.alloc(IN_FRAMES * 2);
    this.outAt = this.alloc(FIR_BLOCK * 4);
    const buf = this.memory.buffer;
    this.inL = new Int16Array(buf, this.inLAt, IN_FRAMES);
    this.inR = new Int16Array(buf, this.inRAt, IN_FRAMES);
    this.out = new Int32Array(buf, this.outAt, FIR_BLOCK);
  }

  /** Input frames per plane the scratch window holds. */
  get windowFrames(): number {
    return IN_FRAMES;
  }

  /** `bytes` of this memory, 16-byte aligned, zeroed, never moved (shared memory: growing detaches nothing). */
  private alloc(bytes: number): number {
    const at = this.top;
    const end = at + ((bytes + 15) & ~15);
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES) throw new RangeError("fir-simd: out of table memory");
      this.memory.grow(pages);
    }
    this.top = end;
    return at;
  }

  private functions(taps: number): { fir1: Fir1; fir2: Fir2 } {
    let f = this.fns.get(taps);
    if (!f) {
      const inst = new wasm!.Instance(new wasm!.Module(moduleBytes(taps)), { env: { mem: this.memory } });
      f = { fir1: inst.exports.fir1 as Fir1, fir2: inst.exports.fir2 as Fir2 };
      this.fns.set(taps, f);
    }
    return f;
  }

  /**
   * The kernel's copy of a designed table (`coeffs`: phases x taps, Q15, never written after design), made
   * once per table; null when the table cannot be summed exactly in i32 lanes or is too wide.
   */
  table(coeffs: Int32Array, phases: number, taps: number): FirTable | null {
    const known = this.tables.get(coeffs);
    if (known !== undefined) return known;
    const padded = (taps + 7) & ~7;
    let t: FirTable | null = null;
    if (padded <= FIR_MAX_TAPS && simdExact(coeffs, phases, taps)) {
      const address = this.alloc(phases * padded * 2);
      const view = new Int16Array(this.memory.buffer, address, phases * padded);
      for (let q = 0; q < phases; q++) {
        for (let j = 0; j < taps; j++) view[q * padded + j] = coeffs[q * taps + j]!;
      }
      t = { address, paddedTaps: padded, ...this.functions(padded) };
    }
    this.tables.set(coeffs, t);
    return t;
  }
}

let kernel: FirSimd | null | undefined;

/** WebAssembly memory is little-endian; the typed-array views over it read it in the host's order. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The thread's FIR kernel, or null where WebAssembly SIMD (or shared wasm memory) is missing. */
export function firSimd(): FirSimd | null {
  if (kernel !== undefined) return kernel;
  kernel = null;
  if (!LITTLE_ENDIAN) return kernel;
  try {
    const probe = moduleBytes(8);
    kernel = wasm?.validate(probe) ? new FirSimd() : null;
  } catch {
    kernel = null;
  }
  return kernel;
}
