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
const SCRATCH_SLOTS = 3; // out, a, b

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

/** The module's bytes: (import "env" "mem" (memory shared)) (func mix2 (out a ga b gb bytes) -> peak). */
function moduleBytes(): Uint8Array {
  // Locals: params 0..5 = out, a, ga, b, gb, bytes; then i32 i(6) p(7) v(8); v128 vga(9) vgb(10) hi(11) lo(12)
  // half(13) s0(14) s1(15).
  const OUT = 0;
  const A = 1;
  const GA = 2;
  const B = 3;
  const GB = 4;
  const BYTES = 5;
  const I = 6;
  const P = 7;
  const V = 8;
  const VGA = 9;
  const VGB = 10;
  const HI = 11;
  const LO = 12;
  const HALF = 13;
  const S0 = 14;
  const S1 = 15;
  const get = (l: number) => [0x20, l];
  const set = (l: number) => [0x21, l];
  const tee = (l: number) => [0x22, l];
  const i32const = (n: number) => [0x41, ...sleb(n)];
  const I32_ADD = [0x6a];
  const I32X4_SPLAT = simd(0x11);
  const LOAD16X4_S = (offset: number) => [...simd(0x03), 1, ...leb(offset)]; // align 2^1
  const STORE = [...simd(0x0b), 1, 0];
  const MUL = simd(0xb5);
  const ADD = simd(0xae);
  const MAX_S = simd(0xb8);
  const MIN_S = simd(0xb6);
  const SHR_S = simd(0xac);
  const NEG = simd(0xa1);
  const NARROW_S = simd(0x85);
  const lane = (k: number) => [...simd(0x1b), k];
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
    ...lane(k),
    ...tee(V),
    ...get(P),
    ...get(V),
    ...get(P),
    0x4a, // i32.gt_s
    0x1b, // select
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
    ...STORE,
    ...get(I),
    ...i32const(16),
    ...I32_ADD,
    ...tee(I),
    ...get(BYTES),
    0x49, // i32.lt_u
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
    ...lane(0),
    ...set(P),
    ...maxLane(1),
    ...maxLane(2),
    ...maxLane(3),
    ...get(P),
    0x0b, // end func
  ];
  const locals = [2, 3, 0x7f, 7, 0x7b]; // 3 × i32, 7 × v128
  const body = [...locals, ...code];
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [1, 0x60, 6, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 1, 0x7f]),
    ...section(2, [1, ...str("env"), ...str("mem"), 0x02, 0x03, ...leb(1), ...leb(MAX_PAGES)]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...str("mix2"), 0x00, 0]),
    ...section(10, [1, ...leb(body.length), ...body]),
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
  /** Scratch frames: [0] the output, [1] and [2] inputs that are not in the arena. */
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

  /** A zeroed Int16Array of `samples` in this memory, 16-byte aligned, never moved or detached. */
  alloc(samples: number): Int16Array {
    if (!Number.isInteger(samples) || samples < 0) throw new RangeError(`arena: bad sample count ${samples}`);
    const at = this.top;
    const end = at + ((samples * 2 + 15) & ~15);
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

  /** Bytes handed out (audio + scratch). */
  get used(): number {
    return this.top;
  }
}

export class SimdKernel {
  readonly arena: PcmArena;
  private readonly fn: Mix2;
  private readonly outAt: number;
  private readonly outView: Int16Array;

  constructor(arena: PcmArena, module: WasmModule) {
    this.arena = arena;
    const inst = new wasm!.Instance(module, { env: { mem: arena.memory } });
    this.fn = inst.exports.mix2 as Mix2;
    this.outAt = arena.scratchAt[0]!;
    this.outView = arena.scratch[0]!;
  }

  /**
   * out = mix2 of the frames at byte addresses `a` and `b` (gains in Q15, ga + gb <= 65535), through the
   * output scratch slot; returns the frame's peak |a·ga + b·gb|.
   */
  mix2(out: Int16Array, a: number, ga: number, b: number, gb: number): number {
    const peak = this.fn(this.outAt, a, ga, b, gb, BYTES);
    out.set(this.outView);
    return peak;
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
