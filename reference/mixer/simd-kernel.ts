import { FRAME_BYTES, FRAME_SAMPLES } from "./frame.ts";

// The 2-input mixing kernel in WebAssembly SIMD, and the per-thread memory it reads from.
//
// Why: a JS loop costs ~1.5-2 ns per sample on this project's 2-core EPYC, so even the fused in-place kernel
// (frame-kernel.ts) spends ~4-5 µs on a 10 ms frame, ~2% of TypedArray.prototype.set over the same bytes.
// With 128-bit lanes the same frame is 120 iterations of 8 samples (bench/mixer/publish-path.ts, part b).
//
// Arithmetic, identical to kernel.ts's mix2 (and to frame-kernel.ts's mixAt2, peak included):
//   s = a·ga + b·gb in i32 lanes (a, b sign-extended from i16 by v128.load16x4_s),
//   peak = max over the frame of |s|,
//   y = i16x8.narrow_i32x4_s((s + 2^14) >> 15)  (arithmetic shift, saturating narrow).
// Exact only while no lane overflows: |s| <= 32768·(ga + gb), so the caller uses it only when ga + gb <= 65535
// (then |s| + 2^14 <= 2147467264 < 2^31); the pipeline's 60 + 100 volumes are 19661 + 32768 = 52429. The
// narrow is the kernel's saturation: clamp(s, ACC_MIN, ACC_MAX) + 2^14 >> 15 equals the shift clamped to
// -32768..32767, because the shift is monotone and maps ACC_MIN and ACC_MAX exactly onto the rails.
// One input is the same call with gb = 0.
//
// WebAssembly reads only its own memory, so the inputs must be in it. A source that holds its audio in memory
// can allocate that audio here (`pcmArena().alloc`) and is then read in place; a source that renders into
// the mixer's frame buffer gets that buffer copied into a scratch slot (TypedArray.set of one whole frame:
// ~0.1 µs, no allocation); the output is copied out of a scratch slot the same way. The memory is shared
// (SharedArrayBuffer-backed) only so that growing it never detaches the views handed out before: audio
// allocated here is never moved and, in this version, never freed (it is meant for a worker's shared, long-lived
// decoded songs and voice renders). The module is assembled below from its opcodes (no toolchain dependency);
// where WebAssembly SIMD is unavailable `simdKernel()` returns null and the Mixer stays on the JS kernels.

// The few WebAssembly JS API members used here (the project's TypeScript libs carry no WebAssembly types).
interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}
interface WasmModule {
  readonly __wasmModule?: never;
}
interface WasmApi {
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (m: WasmModule, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** A module-local copy: under tsx an imported constant is read through a getter call. */
const BYTES = FRAME_BYTES;
const PAGE = 65_536;
/** 2 GiB of address space reserved per thread; pages are committed only as audio is allocated. */
const MAX_PAGES = 32_768;
const SCRATCH_SLOTS = 5; // out, then up to 4 inputs

function leb(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const str = (s: string): number[] => [...leb(s.length), ...Buffer.from(s, "utf8")];
const section = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];
const simd = (op: number): number[] => [0xfd, ...leb(op)];

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
const I32X4_LANE = (k: number) => [...simd(0x1b), k];
const NARROW_S = simd(0x85);
const I16X8_MIN_S = simd(0x96);
const I16X8_MAX_S = simd(0x98);
const NEG = simd(0xa1);
const SHR_S = simd(0xac);
const ADD = simd(0xae);
const MIN_S = simd(0xb6);
const MAX_S = simd(0xb8);
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
 * mix2(out, a, ga, b, gb, bytes) -> peak: the exact 2-input kernel (gains summing to at most 65535), 8 samples
 * a step. Every address is a byte address in the memory; `bytes` a positive multiple of 16.
 */
function mix2Body(): number[] {
  // Params 0..5 = out, a, ga, b, gb, bytes; then i32 i(6) p(7) v(8); v128 vga(9) vgb(10) hi(11) lo(12)
  // half(13) s0(14) s1(15).
  const [OUT, A, GA, B, GB, BYTES, I, P, V, VGA, VGB, HI, LO, HALF, S0, S1] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
  ];
  /** s = (a+i+off)·vga + (b+i+off)·vgb; hi/lo track it; leaves nothing on the stack, s in `into`. */
  const sum = (off: number, into: number) => [
    ...get(A),
    ...get(I),
    ...I32_ADD,
    ...LOAD16X4_S(off),
    ...get(VGA),
    ...MUL,
    ...get(B),
    ...get(I),
    ...I32_ADD,
    ...LOAD16X4_S(off),
    ...get(VGB),
    ...MUL,
    ...ADD,
    ...tee(into),
    ...get(HI),
    ...MAX_S,
    ...set(HI),
    ...get(into),
    ...get(LO),
    ...MIN_S,
    ...set(LO),
  ];
  const rounded = (s: number) => [...get(s), ...get(HALF), ...ADD, ...i32const(15), ...SHR_S];
  const maxLane = (k: number) => [
    ...get(HI),
    ...I32X4_LANE(k),
    ...tee(V),
    ...get(P),
    ...get(V),
    ...get(P),
    ...I32_GT_S,
    ...SELECT,
    ...set(P),
  ];
  const code = [
    ...get(GA),
    ...I32X4_SPLAT,
    ...set(VGA),
    ...get(GB),
    ...I32X4_SPLAT,
    ...set(VGB),
    ...i32const(16384),
    ...I32X4_SPLAT,
    ...set(HALF),
    0x03,
    0x40, // loop (no result)
    ...sum(0, S0),
    ...sum(8, S1),
    ...get(OUT),
    ...get(I),
    ...I32_ADD,
    ...rounded(S0),
    ...rounded(S1),
    ...NARROW_S,
    ...STORE(0),
    ...get(I),
    ...i32const(16),
    ...I32_ADD,
    ...tee(I),
    ...get(BYTES),
    ...I32_LT_U,
    0x0d,
    0, // br_if 0 (the loop)
    0x0b, // end loop
    // peak = horizontal max of max(hi, -lo)
    ...get(HI),
    ...get(LO),
    ...NEG,
    ...MAX_S,
    ...set(HI),
    ...get(HI),
    ...I32X4_LANE(0),
    ...set(P),
    ...maxLane(1),
    ...maxLane(2),
    ...maxLane(3),
    ...get(P),
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
  /** M = max(M, ±lane k of `v`) as i32 (lanes are i16: extract sign-extends, so -(-32768) is exact). */
  const lane = (v: number, k: number, sign: 1 | -1): number[] => [
    ...(sign === 1
      ? [...get(v), ...I16X8_LANE_S(k)]
      : [...i32const(0), ...get(v), ...I16X8_LANE_S(k), ...I32_SUB]),
    ...tee(V),
    ...get(M),
    ...get(V),
    ...get(M),
    ...I32_GT_S,
    ...SELECT,
    ...set(M),
  ];
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
  for (let k = 0; k < 8; k++) code.push(...lane(HI, k, 1), ...lane(LO, k, -1));
  code.push(...get(M));
  return body(
    [
      [3, I32],
      [12, V128],
    ],
    code,
  );
}

/** The module's bytes: (import "env" "mem" (memory shared)); exports mix2 and mix1..mix4 (see the bodies). */
function moduleBytes(): Uint8Array {
  const t6 = [0x60, 6, ...Array(6).fill(I32), 1, I32];
  const t10 = [0x60, 10, ...Array(10).fill(I32), 1, I32];
  const exports = [
    ["mix2", 0],
    ["mixN1", 1],
    ["mixN2", 2],
    ["mixN3", 3],
    ["mixN4", 4],
  ] as const;
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [2, ...t6, ...t10]),
    ...section(2, [1, ...str("env"), ...str("mem"), 0x02, 0x03, ...leb(1), ...leb(MAX_PAGES)]),
    ...section(3, [5, 0, 1, 1, 1, 1]),
    ...section(7, [exports.length, ...exports.flatMap(([name, f]) => [...str(name), 0x00, f])]),
    ...section(10, [5, ...mix2Body(), ...mixNBody(1), ...mixNBody(2), ...mixNBody(3), ...mixNBody(4)]),
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
  private readonly fn: Mix2;
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
    this.fnN = [1, 2, 3, 4].map((n) => inst.exports[`mixN${n}`] as MixN);
    this.outAt = arena.scratchAt[0]!;
    this.outView = arena.scratch[0]!;
  }

  /**
   * out = mix2 of the frames at byte addresses `a` and `b` (gains in Q15, ga + gb <= 65535); returns the frame's
   * peak |a·ga + b·gb|. An `out` in the arena is written in place; any other goes through the output scratch
   * slot and a copy (TypedArray.set: ~40% of the call, measured by the kernel-vs-memcpy bench case).
   */
  mix2(out: Int16Array, a: number, ga: number, b: number, gb: number): number {
    const at = this.addressOut(out);
    if (at >= 0) return this.fn(at, a, ga, b, gb, BYTES);
    const peak = this.fn(this.outAt, a, ga, b, gb, BYTES);
    out.set(this.outView);
    return peak;
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
    // max|R| is taken from the saturated output: at 32767 or more R may have been clipped, so no finite bound.
    return m >= 32767 ? Number.POSITIVE_INFINITY : m * 32768 + 16384;
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
