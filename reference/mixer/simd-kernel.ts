import { FRAME_BYTES, FRAME_SAMPLES } from "./frame.ts";
import {
  importedMemory,
  leb,
  section,
  simd,
  sleb,
  str,
  WASM_HEADER,
  type WasmMemory,
  type WasmModule,
  wasm,
} from "./wasm-bytes.ts";

// The mixing kernels in WebAssembly SIMD, and the per-thread memory they read from.
//
// Why: a JS loop costs ~1.5-2 ns per sample on this project's 2-core EPYC, so even the fused in-place kernel
// (frame-kernel.ts) spends ~4-5 µs on a 10 ms frame of 2 inputs (~7 µs for 4), against ~0.1 µs for
// TypedArray.prototype.set over the same bytes. With 128-bit lanes a frame is a few dozen loop steps.
//
// Arithmetic, identical to kernel.ts's mix1..mix4 (tests: frame-kernel.test.ts, on random, full-scale and
// -32768 frames at every gain):
//   s = Σ x·g, y = clamp((s + 2^14) >> 15) to int16 (arithmetic shift, saturating narrow).
// The narrow is the kernel's saturation: clamp(s, ACC_MIN, ACC_MAX) + 2^14 >> 15 equals the shift clamped to
// -32768..32767, because the shift is monotone and maps ACC_MIN and ACC_MAX exactly onto the rails.
// - mix2: two inputs whose gains sum to at most 65535 (the pipeline's 60 + 100 volumes: 19661 + 32768), in i32
//   lanes that cannot overflow; one input is the same call with gb = 0. See mix2Body.
// - mixN: 1..4 inputs at any gains to 65536 (four at unity sum past 2^31), the sum carried in two exact i32
//   parts. See mixNBody.
// Both return an upper bound of the frame's peak |s| instead of the peak itself (cheaper: it is read from the
// output), which is what the Mixer's exact limiter skip needs (frame-kernel.ts): a frame whose bound passes the
// limiter's ceiling goes to the limiter, whose output for a frame under the ceiling is the kernel's anyway.
//
// WebAssembly reads only its own memory, so the inputs must be in it. A source that holds its audio in memory
// can allocate that audio here (`pcmArena().alloc`) and is then read in place (BufferSource over arena audio,
// PassthroughSource's chunk); a source that renders into the mixer's frame buffer gets that buffer copied into
// a scratch slot (TypedArray.set of one whole frame, no allocation). An output frame allocated here is written
// in place; any other is copied out of a scratch slot. The memory is shared (SharedArrayBuffer-backed) only so
// that growing it never detaches the views handed out before: audio allocated here is never moved; a block
// given back with `free` is reused by the next allocation of its size, and the memory never shrinks. The module
// is assembled below from its opcodes (no toolchain dependency); where WebAssembly SIMD is unavailable
// `simdKernel()` returns null and the Mixer stays on the JS kernels.

/** A module-local copy: under tsx an imported constant is read through a getter call. */
const BYTES = FRAME_BYTES;
const PAGE = 65_536;
/** 2 GiB of address space reserved per thread; pages are committed only as audio is allocated. */
const MAX_PAGES = 32_768;
const SCRATCH_SLOTS = 5; // out, then up to 4 inputs

// The few instructions the kernels use.
const get = (l: number) => [0x20, ...leb(l)];
const set = (l: number) => [0x21, ...leb(l)];
const tee = (l: number) => [0x22, ...leb(l)];
const i32const = (n: number) => [0x41, ...sleb(n)];
const I32_ADD = [0x6a];
const I32_LT_U = [0x49];
const I32_GT_S = [0x4a];
const I32_SUB = [0x6b];
const SELECT = [0x1b];
const I16X8_SPLAT = simd(0x10);
const I32X4_SPLAT = simd(0x11);
const LOAD16X4_S = (offset: number) => [...simd(0x03), 1, ...leb(offset)]; // align 2^1
const STORE = (offset: number) => [...simd(0x0b), 1, ...leb(offset)];
const V128_AND = simd(0x4e);
const I16X8_LANE_S = (k: number) => [...simd(0x18), k];
const NARROW_S = simd(0x85);
const I16X8_MIN_S = simd(0x96);
const I16X8_MAX_S = simd(0x98);
const I16X8_ADD_SAT_S = simd(0x8f);
const SHR_S = simd(0xac);
const ADD = simd(0xae);
const MUL = simd(0xb5);

/** A function body: local declarations (runs of [count, type]) and code. */
function body(locals: [number, number][], code: number[]): number[] {
  const decl = [...leb(locals.length), ...locals.flatMap(([n, t]) => [...leb(n), t])];
  const b = [...decl, ...code, 0x0b];
  return [...leb(b.length), ...b];
}
const I32 = 0x7f;
const V128 = 0x7b;

/**
 * Adds to the function's code the frame's max |R| from the running i16 maximum `hi` and minimum `lo` of the
 * output (one horizontal pass after the loop), left on the stack. Lanes are sign-extended, so -(-32768) is exact.
 */
function maxAbsR(hi: number, lo: number, m: number, v: number): number[] {
  const lane = (k: number, neg: boolean): number[] => [
    ...(neg
      ? [...i32const(0), ...get(lo), ...I16X8_LANE_S(k), ...I32_SUB]
      : [...get(hi), ...I16X8_LANE_S(k)]),
    ...tee(v),
    ...get(m),
    ...get(v),
    ...get(m),
    ...I32_GT_S,
    ...SELECT,
    ...set(m),
  ];
  const code: number[] = [];
  for (let k = 0; k < 8; k++) code.push(...lane(k, false), ...lane(k, true));
  return [...code, ...get(m)];
}

/** Which gain, if either, is 32768 or more (at most one can be, when ga + gb <= 65535): one mix2 variant each. */
enum Big {
  None = 0,
  B = 1,
  A = 2,
}

/**
 * mix2(out, a, ga, b, gb, bytes) -> max |R|: the 2-input kernel for ga + gb <= 65535, 32 samples a step (`bytes`
 * a positive multiple of 64), one variant per `big`.
 *
 * Each 8 samples interleave a and b (punpcklwd / punpckhwd) and form a·ga + b·gb with one i32x4.dot_i16x8_s
 * (pmaddwd) per 4 samples, instead of two i32x4.mul (pmulld) and an add. pmaddwd takes i16 gains, so the big
 * gain, if any (say gb >= 32768, which forces ga <= 32767), enters as gb' = gb - 32768 and is added back after
 * the shift, exactly, because b·32768 is a multiple of 2^15:
 *   R = (a·ga + b·gb + 2^14) >> 15 = b + Q,   Q = (a·ga + b·gb' + 2^14) >> 15.
 * With ga + gb' <= 32767, |a·ga + b·gb'| <= 32768·32767, so Q is in -32767..32766: narrowing Q is exact, and
 * i16x8.add_sat_s(b, Q) = clamp(b + Q) = the kernel's saturated output (the narrow's clamp, as the header says).
 * Without a big gain the sum fits i32 as it is (|s| < 2^31) and Q is R. The frame's max |R| is tracked on the
 * narrowed output (2 instructions per 8 samples; the exact peak on the i32 sums took 4).
 * Measured against the previous loop (8 samples a step, pmulld, exact peak, output through a scratch slot):
 * kernel-vs-memcpy 444 -> ~200 ns a frame (bench/cases/publish.ts; see the report in reference/mixer/README.md).
 */
function mix2Body(big: Big): number[] {
  const [OUT, A, GA, B, GB, BYTES, I, M, V, VG, HALF, HI, LO, O, X, Y] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
  ];
  const LOAD = (off: number) => [...simd(0x00), 1, ...leb(off)];
  const SHUFFLE = (lanes: number[]) => [...simd(0x0d), ...lanes];
  // Byte lanes of (first, second) interleaving their i16 words 0-3 (low) or 4-7 (high): first in the low half.
  const LOW = [0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23];
  const HIGH = LOW.map((l) => l + 8);
  const DOT = simd(0xba);
  /** Q = (dot + 2^14) >> 15 of 4 samples (words `lanes` of X and Y), left on the stack. */
  const r = (lanes: number[]): number[] => [
    ...get(X),
    ...get(Y),
    ...SHUFFLE(lanes),
    ...get(VG),
    ...DOT,
    ...get(HALF),
    ...ADD,
    ...i32const(15),
    ...SHR_S,
  ];
  const eight = (off: number): number[] => [
    ...get(A),
    ...get(I),
    ...I32_ADD,
    ...LOAD(off),
    ...set(X),
    ...get(B),
    ...get(I),
    ...I32_ADD,
    ...LOAD(off),
    ...set(Y),
    ...get(OUT),
    ...get(I),
    ...I32_ADD,
    ...r(LOW),
    ...r(HIGH),
    ...NARROW_S,
    ...(big === Big.None ? [] : [...get(big === Big.A ? X : Y), ...I16X8_ADD_SAT_S]),
    ...tee(O),
    ...STORE(off),
    ...get(HI),
    ...get(O),
    ...I16X8_MAX_S,
    ...set(HI),
    ...get(LO),
    ...get(O),
    ...I16X8_MIN_S,
    ...set(LO),
  ];
  const code = [
    // VG: (gb' << 16) | ga' in each i32 lane, i.e. the words ga', gb' (g' = g - 32768 for the big gain).
    ...get(GB),
    ...(big === Big.B ? [...i32const(32768), ...I32_SUB] : []),
    ...i32const(16),
    0x74, // i32.shl
    ...get(GA),
    ...(big === Big.A ? [...i32const(32768), ...I32_SUB] : []),
    0x72, // i32.or (ga' < 32768: no sign bits to mask)
    ...I32X4_SPLAT,
    ...set(VG),
    ...i32const(16384),
    ...I32X4_SPLAT,
    ...set(HALF),
    0x03,
    0x40, // loop
    ...eight(0),
    ...eight(16),
    ...eight(32),
    ...eight(48),
    ...get(I),
    ...i32const(64),
    ...I32_ADD,
    ...tee(I),
    ...get(BYTES),
    ...I32_LT_U,
    0x0d,
    0, // br_if 0
    0x0b, // end loop
    ...maxAbsR(HI, LO, M, V),
  ];
  return body(
    [
      [3, I32],
      [7, V128],
    ],
    code,
  );
}

/**
 * mixN(out, a, ga, b, gb, c, gc, d, gd, bytes) -> max |R| for N = 1..4 inputs (the rest ignored), any gains in
 * 0..65536, 8 samples a step. The sum of N products can pass 2^31 (four inputs at unity reach 2^32), so it is
 * carried in two exact i32 parts: each product p = x·g fits i32 (-2^31 <= p <= 2^31 - 65536) and splits as
 * p = 2^15·(p >> 15) + (p & 0x7fff); with H = Σ(p >> 15) and L = Σ(p & 0x7fff) (0 <= L < 2^17),
 *   R = (s + 2^14) >> 15 = H + ((L + 2^14) >> 15)   exactly (2^15·H is a multiple of 2^15),
 * and the output is R narrowed with saturation, as in mix2. Returned: max |R| over the frame, read from the
 * narrowed output (2 instructions per 8 samples instead of 4 per 8 on the i32 sums), so 32767 or 32768 when
 * the output hit the rails; below that the caller bounds the peak exactly: |s| <= 2^15·|R| + 2^14.
 */
function mixNBody(n: number): number[] {
  const OUT = 0;
  const ADDR = [1, 3, 5, 7];
  const GAIN = [2, 4, 6, 8];
  const BYTES = 9;
  const I = 10;
  const M = 11;
  const V = 12;
  // v128 locals
  const VG = [13, 14, 15, 16];
  const HALF = 17;
  const MASK = 18;
  const H = 19;
  const L = 20;
  const P = 21;
  const HI = 22;
  const LO = 23;
  const O = 24;
  /** R of 4 samples at byte offset `off`, left on the stack. */
  const part = (off: number): number[] => {
    const c: number[] = [];
    for (let k = 0; k < n; k++) {
      c.push(...get(ADDR[k]!), ...get(I), ...I32_ADD, ...LOAD16X4_S(off), ...get(VG[k]!), ...MUL, ...tee(P));
      if (k === 0) {
        c.push(...i32const(15), ...SHR_S, ...set(H), ...get(P), ...get(MASK), ...V128_AND, ...set(L));
      } else {
        c.push(...i32const(15), ...SHR_S, ...get(H), ...ADD, ...set(H));
        c.push(...get(P), ...get(MASK), ...V128_AND, ...get(L), ...ADD, ...set(L));
      }
    }
    c.push(...get(L), ...get(HALF), ...ADD, ...i32const(15), ...SHR_S, ...get(H), ...ADD);
    return c;
  };
  const code: number[] = [];
  for (let k = 0; k < n; k++) code.push(...get(GAIN[k]!), ...I32X4_SPLAT, ...set(VG[k]!));
  code.push(...i32const(16384), ...I32X4_SPLAT, ...set(HALF));
  code.push(...i32const(0x7fff), ...I32X4_SPLAT, ...set(MASK));
  code.push(...i32const(0), ...I16X8_SPLAT, ...tee(HI), ...set(LO));
  code.push(
    0x03,
    0x40, // loop
    ...get(OUT),
    ...get(I),
    ...I32_ADD,
    ...part(0),
    ...part(8),
    ...NARROW_S,
    ...tee(O),
    ...STORE(0),
    ...get(HI),
    ...get(O),
    ...I16X8_MAX_S,
    ...set(HI),
    ...get(LO),
    ...get(O),
    ...I16X8_MIN_S,
    ...set(LO),
    ...get(I),
    ...i32const(16),
    ...I32_ADD,
    ...tee(I),
    ...get(BYTES),
    ...I32_LT_U,
    0x0d,
    0, // br_if 0
    0x0b, // end loop
  );
  code.push(...maxAbsR(HI, LO, M, V));
  return body(
    [
      [3, I32],
      [12, V128],
    ],
    code,
  );
}

/** The module's bytes: (import "env" "mem" (memory shared)); exports mix2 (per Big) and mixN1..mixN4. */
function moduleBytes(): Uint8Array {
  const t6 = [0x60, 6, ...Array(6).fill(I32), 1, I32];
  const t10 = [0x60, 10, ...Array(10).fill(I32), 1, I32];
  const bodies = [
    mix2Body(Big.None),
    mix2Body(Big.B),
    mix2Body(Big.A),
    mixNBody(1),
    mixNBody(2),
    mixNBody(3),
    mixNBody(4),
  ];
  const types = [0, 0, 0, 1, 1, 1, 1];
  const names = ["mix2", "mix2b", "mix2a", "mixN1", "mixN2", "mixN3", "mixN4"];
  const bytes = [
    ...WASM_HEADER,
    ...section(1, [2, ...t6, ...t10]),
    ...importedMemory(MAX_PAGES),
    ...section(3, [types.length, ...types]),
    ...section(7, [names.length, ...names.flatMap((name, f) => [...str(name), 0x00, f])]),
    ...section(10, [bodies.length, ...bodies.flat()]),
  ];
  return Uint8Array.from(bytes);
}

type Mix2 = (out: number, a: number, ga: number, b: number, gb: number, bytes: number) => number;

/** Audio memory the SIMD kernel can read: one per thread. */
export class PcmArena {
  readonly memory: WasmMemory;
  /** Every SharedArrayBuffer object handed out as a view's buffer (one per size the memory has had). */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private top: number;
  /** Freed blocks' addresses by block size in bytes, and their total. */
  private readonly freed = new Map<number, number[]>();
  private readonly freedAt = new Set<number>();
  private freeBytes = 0;
  /** Scratch frames: [0] the output, [1]..[4] inputs that are not in the arena. */
  readonly scratch: Int16Array[];
  readonly scratchAt: number[];

  constructor() {
    this.memory = new wasm!.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    this.top = 0;
    this.scratchAt = [];
    this.scratch = [];
    for (let k = 0; k < SCRATCH_SLOTS; k++) {
      const v = this.alloc(FRAME_SAMPLES);
      this.scratch.push(v);
      this.scratchAt.push(v.byteOffset);
    }
  }

  /**
   * A zeroed Int16Array of `samples` in this memory, 16-byte aligned, never moved or detached. A block given
   * back with `free` is reused by the next allocation of the same size.
   */
  alloc(samples: number): Int16Array {
    if (!Number.isInteger(samples) || samples < 0) throw new RangeError(`arena: bad sample count ${samples}`);
    const size = (samples * 2 + 15) & ~15;
    const reuse = this.freed.get(size)?.pop();
    if (reuse !== undefined) {
      this.freedAt.delete(reuse);
      this.freeBytes -= size;
      const buf = this.memory.buffer;
      this.buffers.add(buf);
      return new Int16Array(buf, reuse, samples).fill(0);
    }
    const at = this.top;
    const end = at + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES)
        throw new RangeError("arena: out of audio memory (2 GiB per thread)");
      this.memory.grow(pages);
    }
    this.top = end;
    const buf = this.memory.buffer;
    this.buffers.add(buf);
    return new Int16Array(buf, at, samples);
  }

  /**
   * Gives back a block `alloc` returned, for reuse by an allocation of the same size (the memory itself never
   * shrinks). The caller must hold no other view of it: the next owner overwrites it.
   */
  free(view: Int16Array): void {
    if (this.addressOf(view) < 0) throw new RangeError("arena: not a view of this memory");
    if (this.freedAt.has(view.byteOffset)) throw new Error("arena: block freed twice");
    this.freedAt.add(view.byteOffset);
    const size = (view.length * 2 + 15) & ~15;
    let list = this.freed.get(size);
    if (!list) {
      list = [];
      this.freed.set(size, list);
    }
    list.push(view.byteOffset);
    this.freeBytes += size;
  }

  /** A copy of `pcm` in this memory. */
  copyOf(pcm: Int16Array): Int16Array {
    const v = this.alloc(pcm.length);
    v.set(pcm);
    return v;
  }

  /** Byte address of `pcm`'s first sample in this memory, or -1 when it lives elsewhere. */
  addressOf(pcm: Int16Array): number {
    return this.buffers.has(pcm.buffer) ? pcm.byteOffset : -1;
  }

  /** Bytes handed out (audio + scratch), freed blocks not counted. */
  get used(): number {
    return this.top - this.freeBytes;
  }
}

type MixN = (
  out: number,
  a: number,
  ga: number,
  b: number,
  gb: number,
  c: number,
  gc: number,
  d: number,
  gd: number,
  bytes: number,
) => number;

export class SimdKernel {
  readonly arena: PcmArena;
  /** mix2 for gains both below 32768, for gb >= 32768, for ga >= 32768. */
  private readonly fn: Mix2;
  private readonly fnB: Mix2;
  private readonly fnA: Mix2;
  /** mixN for N = 1..4 inputs at [N - 1]. */
  private readonly fnN: MixN[];
  private readonly outAt: number;
  private readonly outView: Int16Array;
  /** The last output frame seen and its address (-1: not in the arena); callers reuse one frame buffer. */
  private lastOut: Int16Array | null = null;
  private lastOutAt = -1;

  constructor(arena: PcmArena, module: WasmModule) {
    this.arena = arena;
    const inst = new wasm!.Instance(module, { env: { mem: arena.memory } });
    this.fn = inst.exports.mix2 as Mix2;
    this.fnB = inst.exports.mix2b as Mix2;
    this.fnA = inst.exports.mix2a as Mix2;
    this.fnN = [1, 2, 3, 4].map((n) => inst.exports[`mixN${n}`] as MixN);
    this.outAt = arena.scratchAt[0]!;
    this.outView = arena.scratch[0]!;
  }

  /**
   * out = mix2 of the frames at byte addresses `a` and `b` (gains in Q15, ga + gb <= 65535); returns an upper
   * bound of the frame's peak |a·ga + b·gb| as mixN does. An `out` in the arena is written in place; any other
   * goes through the output scratch slot and a copy (TypedArray.set: it was ~40% of the call, measured by the
   * kernel-vs-memcpy bench case).
   */
  mix2(out: Int16Array, a: number, ga: number, b: number, gb: number): number {
    if (ga + gb > SIMD_MAX_GAIN_SUM) throw new RangeError(`simd: mix2 gains sum past ${SIMD_MAX_GAIN_SUM}`);
    const fn = ga >= 32768 ? this.fnA : gb >= 32768 ? this.fnB : this.fn;
    const at = this.addressOut(out);
    const m = fn(at >= 0 ? at : this.outAt, a, ga, b, gb, BYTES);
    if (at < 0) out.set(this.outView);
    return peakBound(m);
  }

  /**
   * out = the mix of the first `n` (1..4) frames at byte addresses a, b, c, d with gains 0..65536 each, exact
   * for any gains (mixN in the module); returns an upper bound of the frame's peak |Σ x·g|: 2^15·max|R| + 2^14,
   * or Infinity when the output touched the rails. That decides the limiter's exact skip (frame-kernel.ts): a
   * frame whose bound passes the ceiling goes to the limiter, which then outputs what it always would.
   */
  mixN(
    out: Int16Array,
    n: number,
    a: number,
    ga: number,
    b: number,
    gb: number,
    c: number,
    gc: number,
    d: number,
    gd: number,
  ): number {
    const fn = this.fnN[n - 1];
    if (fn === undefined) throw new RangeError(`simd: mixN takes 1..4 inputs, got ${n}`);
    const at = this.addressOut(out);
    const m = fn(at >= 0 ? at : this.outAt, a, ga, b, gb, c, gc, d, gd, BYTES);
    if (at < 0) out.set(this.outView);
    return peakBound(m);
  }

  /** Byte address of a whole output frame in the arena, or -1. */
  private addressOut(out: Int16Array): number {
    if (out !== this.lastOut) {
      if (out.length !== FRAME_SAMPLES)
        throw new RangeError(`simd: output must be one frame (${FRAME_SAMPLES} samples)`);
      this.lastOut = out;
      this.lastOutAt = this.arena.addressOf(out);
    }
    return this.lastOutAt;
  }
}

/**
 * |s| <= 2^15·|R| + 2^14 for every sample, so 2^15·max|R| + 2^14 bounds the peak; max|R| is read from the
 * saturated output, so at 32767 or more R may have been clipped and there is no finite bound.
 */
function peakBound(maxR: number): number {
  return maxR >= 32767 ? Number.POSITIVE_INFINITY : maxR * 32768 + 16384;
}

/** ga + gb up to this keeps every i32 lane exact (see the header). */
export const SIMD_MAX_GAIN_SUM = 65_535;

let compiled: WasmModule | null | undefined;
let kernel: SimdKernel | null | undefined;

/** The thread's SIMD kernel (and its arena), or null where WebAssembly SIMD or shared memory is missing. */
export function simdKernel(): SimdKernel | null {
  if (kernel !== undefined) return kernel;
  try {
    const bytes = moduleBytes();
    compiled = wasm?.validate(bytes) ? new wasm.Module(bytes) : null;
    kernel = compiled ? new SimdKernel(new PcmArena(), compiled) : null;
  } catch {
    kernel = null;
  }
  return kernel;
}

/** The thread's audio arena (null without SIMD: then plain Int16Arrays are as good). */
export function pcmArena(): PcmArena | null {
  return simdKernel()?.arena ?? null;
}
