import { allocFrame, assertFrame, FRAME_FRAMES, FRAME_SAMPLES } from "./frame.ts";
import { accumulateAt, mixAt1, mixAt2, mixAt3, mixAt4 } from "./frame-kernel.ts";
import { MAX_GAIN, saturate, UNITY_GAIN, volumeToGain } from "./kernel.ts";
import { Limiter, type LimiterOptions } from "./limiter.ts";
import { type PcmArena, SIMD_MAX_GAIN_SUM, type SimdKernel, simdKernel } from "./simd-kernel.ts";
import { type InPlaceSource, isInPlace, type PcmSource } from "./source.ts";

// Module-local copies of imported constants used per frame: under tsx an imported binding is read
// through a getter call (measured in frame-kernel.ts and in a CPU profile of 1000 devices).
const FRAMES = FRAME_FRAMES;
const SAMPLES = FRAME_SAMPLES;
const UNITY = UNITY_GAIN;
const SIMD_MAX = SIMD_MAX_GAIN_SUM;

/** Live-input address meaning "in the input's own frame buffer, not in the SIMD arena" (no SIMD kernel). */
const IN_BUF = -2;
/** Live-input address meaning "in place in memory the SIMD kernel cannot read". */
const ELSEWHERE = -1;

// Mixes N sources into one 48 kHz stereo s16 frame every call. Each input owns a frame buffer allocated when
// it is added; `mix` reads every input (muted ones too, so a muted player keeps its place in time), then runs
// one kernel over the inputs that can contribute (unmuted, non-zero gain, returned audio): simd-kernel.ts for
// 1-4 inputs whose samples it can read, else frame-kernel.ts's JS loops (or the accumulator past 4). Sources that
// hold their audio in memory (InPlaceSource) are read in place, without the copy into the input's buffer. With the
// limiter on, a frame that starts at unity gain and peaks under its ceiling is exactly the plain kernel's
// output (frame-kernel.ts), so the limiter runs only on frames that need it. Adding, removing and changing
// inputs allocate; `mix` itself allocates nothing.
//
// With the SIMD kernel, each input's frame buffer is allocated in the kernel's memory, so a source that fills
// it is read there: before, every such input's 10 ms was copied again into a scratch slot (a 1,920-byte set
// per input per frame, both publisher inputs in a load run). Those blocks go back to the thread's PcmArena
// when the input is removed, or when the mixer itself is collected (blockRelease below).

export interface InputOptions {
  /** The SDK's volume scale: integer 0..200, 100 = unity (default). */
  volume?: number;
  muted?: boolean;
}

interface Input {
  readonly id: number;
  readonly source: PcmSource;
  /** The same source when it can be read in place, else null. */
  readonly inPlace: InPlaceSource | null;
  /** Byte address of the in-place source's samples in the SIMD arena, or ELSEWHERE. */
  readonly arenaAt: number;
  readonly buf: Int16Array;
  /** Byte address of `buf` in the SIMD arena, or IN_BUF when there is no SIMD kernel. */
  readonly bufAt: number;
  gain: number;
  muted: boolean;
  lastFrames: number;
}

export interface MixerOptions {
  /** true for the default limiter, or its settings; off by default (plain int16 saturation). */
  limiter?: boolean | LimiterOptions;
  /** Use the WebAssembly SIMD kernel where it applies (default true; false for the JS kernels only). */
  simd?: boolean;
}

export class Mixer {
  readonly limiter: Limiter | null;
  private inputs: Input[] = [];
  private nextId = 1;
  // Scratch for the current frame's contributing inputs, reused every call.
  private readonly live: Int16Array[] = [];
  private readonly liveAt: number[] = [];
  private readonly liveGain: number[] = [];
  /** Each live input's byte address in the SIMD arena, ELSEWHERE, or IN_BUF (no SIMD kernel: never read). */
  private readonly liveAddr: number[] = [];
  /** The live inputs' byte addresses the SIMD kernel reads (always four numbers for mixN), reused every call. */
  private readonly scratchAddr = [0, 0, 0, 0];
  private readonly acc = new Float64Array(SAMPLES);
  private readonly simd: SimdKernel | null;
  /** The input buffers this mixer holds in the SIMD arena (handed back when it is collected). */
  private readonly blocks: Int16Array[] = [];

  constructor(opts: MixerOptions = {}) {
    const l = opts.limiter;
    this.limiter = l ? new Limiter(l === true ? {} : l) : null;
    this.simd = opts.simd === false ? null : simdKernel();
    if (this.simd !== null) blockRelease.register(this, { arena: this.simd.arena, blocks: this.blocks });
  }

  /** Adds a source; returns its input id. */
  add(source: PcmSource, opts: InputOptions = {}): number {
    const gain = volumeToGain(opts.volume ?? 100);
    const buf = this.simd !== null ? this.simd.arena.alloc(SAMPLES) : allocFrame();
    if (this.simd !== null) this.blocks.push(buf);
    const input: Input = {
      id: this.nextId++,
      source,
      inPlace: isInPlace(source) ? source : null,
      arenaAt: isInPlace(source) && this.simd ? this.simd.arena.addressOf(source.pcm) : ELSEWHERE,
      buf,
      bufAt: this.simd !== null ? this.simd.arena.addressOf(buf) : IN_BUF,
      gain,
      muted: opts.muted ?? false,
      lastFrames: 0,
    };
    this.inputs = [...this.inputs, input];
    this.live.push(input.buf);
    this.liveAt.push(0);
    this.liveAddr.push(0);
    this.liveGain.push(0);
    return input.id;
  }

  /** Removes an input; false when there was no such input. */
  remove(id: number): boolean {
    const gone = this.inputs.find((i) => i.id === id);
    if (gone === undefined) return false;
    this.inputs = this.inputs.filter((i) => i !== gone);
    if (this.simd !== null) {
      const at = this.blocks.indexOf(gone.buf);
      if (at >= 0) {
        this.blocks.splice(at, 1);
        this.simd.arena.free(gone.buf);
      }
    }
    // Drop the scratch slot too, so add/remove cycles neither grow it nor pin removed buffers.
    this.live.length = this.inputs.length;
    this.liveAt.length = this.inputs.length;
    this.liveAddr.length = this.inputs.length;
    this.liveGain.length = this.inputs.length;
    return true;
  }

  has(id: number): boolean {
    return this.inputs.some((i) => i.id === id);
  }

  get size(): number {
    return this.inputs.length;
  }

  /** Sets an input's gain from the SDK volume 0..200 (RangeError outside it; callers map that to 1017007). */
  setVolume(id: number, volume: number): void {
    this.get(id).gain = volumeToGain(volume);
  }

  /** Sets an input's gain directly in Q15 (0..65536, 32768 = unity), for finer steps than the SDK volume. */
  setGain(id: number, gain: number): void {
    if (!Number.isInteger(gain) || gain < 0 || gain > MAX_GAIN) {
      throw new RangeError(`gain must be an integer in 0..${MAX_GAIN}, got ${gain}`);
    }
    this.get(id).gain = gain;
  }

  gain(id: number): number {
    return this.get(id).gain;
  }

  setMuted(id: number, muted: boolean): void {
    this.get(id).muted = muted;
  }

  /** Sample frames of real audio the input returned in the last `mix` (0 once a source has ended). */
  lastFrames(id: number): number {
    return this.get(id).lastFrames;
  }

  /** Mixes the next 10 ms into `out`; returns how many inputs contributed. */
  mix(out: Int16Array): number {
    assertFrame(out, "mix output");
    const inputs = this.inputs;
    const live = this.live;
    const at = this.liveAt;
    const g = this.liveGain;
    const addr = this.liveAddr;
    let n = 0;
    for (let k = 0; k < inputs.length; k++) {
      const input = inputs[k]!;
      const inPlace = input.inPlace;
      const from = inPlace === null ? -1 : inPlace.takeFrame();
      let frames = FRAMES;
      if (from < 0) frames = input.source.read(input.buf);
      input.lastFrames = frames;
      // A source that returned no audio has zeroed its buffer, so skipping it changes nothing but the cost.
      if (input.muted || input.gain === 0 || frames === 0) continue;
      if (from < 0) {
        live[n] = input.buf;
        at[n] = 0;
        addr[n] = input.bufAt;
      } else {
        live[n] = inPlace!.pcm;
        at[n] = from;
        addr[n] = input.arenaAt < 0 ? ELSEWHERE : input.arenaAt + from * 2;
      }
      g[n] = input.gain;
      n++;
    }
    const limiter = this.limiter;
    if (limiter !== null && (n > 4 || limiter.gain !== UNITY || this.plain(out, n) > limiter.ceiling)) {
      if (n === 1 || n === 2) {
        const b = n === 2 ? 1 : 0;
        limiter.processMix2(out, FRAMES, live[0]!, at[0]!, g[0]!, live[b]!, at[b]!, n === 2 ? g[1]! : 0);
      } else {
        this.accumulateLive(n);
        limiter.process(out, FRAMES, this.acc);
      }
    } else if (limiter === null && n > 4) {
      this.accumulateLive(n);
      saturate(out, SAMPLES, this.acc);
    } else if (limiter === null) {
      this.plain(out, n);
    }
    return n;
  }

  /**
   * The plain kernel for 0..4 live inputs; returns the frame's peak before saturation, or (SIMD mixN) an upper
   * bound of it: either way a frame it returns at most the limiter's ceiling for is exactly the limiter's output.
   */
  private plain(out: Int16Array, n: number): number {
    const S = SAMPLES;
    const l = this.live;
    const at = this.liveAt;
    const g = this.liveGain;
    if (this.simd !== null && n >= 1 && n <= 4) {
      const peak = this.simdPlain(this.simd, out, n);
      if (peak >= 0) return peak;
    }
    switch (n) {
      case 0:
        out.fill(0);
        return 0;
      case 1:
        return mixAt1(out, S, l[0]!, at[0]!, g[0]!);
      case 2:
        return mixAt2(out, S, l[0]!, at[0]!, g[0]!, l[1]!, at[1]!, g[1]!);
      case 3:
        return mixAt3(out, S, l[0]!, at[0]!, g[0]!, l[1]!, at[1]!, g[1]!, l[2]!, at[2]!, g[2]!);
      default:
        return mixAt4(
          out,
          S,
          l[0]!,
          at[0]!,
          g[0]!,
          l[1]!,
          at[1]!,
          g[1]!,
          l[2]!,
          at[2]!,
          g[2]!,
          l[3]!,
          at[3]!,
          g[3]!,
        );
    }
  }

  /**
   * simd-kernel.ts for 1..4 live inputs whose samples it can read (in the arena: in place, or the input's own
   * frame buffer, which add() allocated there): mix2 (exact peak) for one or two whose gains keep its i32 lanes
   * exact, else mixN (any gains; returns a bound on the peak, which the limiter's skip may use as well). -1 when
   * it does not apply.
   */
  private simdPlain(simd: SimdKernel, out: Int16Array, n: number): number {
    const addr = this.liveAddr;
    for (let k = 0; k < n; k++) if (addr[k] === ELSEWHERE) return -1;
    const g = this.liveGain;
    const at = this.scratchAddr;
    for (let k = 0; k < n; k++) at[k] = addr[k]!;
    const ga = g[0]!;
    if (n === 1 && ga <= SIMD_MAX) return simd.mix2(out, at[0]!, ga, at[0]!, 0);
    if (n === 2 && ga + g[1]! <= SIMD_MAX) return simd.mix2(out, at[0]!, ga, at[1]!, g[1]!);
    // Unused inputs of mixN are never read; their slots hold the last frame's addresses (or 0).
    return simd.mixN(out, n, at[0]!, ga, at[1]!, g[1] ?? 0, at[2]!, g[2] ?? 0, at[3]!, g[3] ?? 0);
  }

  private accumulateLive(n: number): void {
    if (n === 0) {
      this.acc.fill(0);
      return;
    }
    for (let k = 0; k < n; k++)
      accumulateAt(this.acc, SAMPLES, this.live[k]!, this.liveAt[k]!, this.liveGain[k]!, k === 0);
  }

  private get(id: number): Input {
    const input = this.inputs.find((i) => i.id === id);
    if (!input) throw new RangeError(`mixer: no input ${id}`);
    return input;
  }
}

/**
 * Hands a collected mixer's input buffers back to the thread's PcmArena: an engine dropped without removing its
 * inputs would otherwise keep its blocks for the thread's life (a mixer per login in a long soak). The held
 * value references the blocks, never the mixer.
 */
const blockRelease = new FinalizationRegistry<{ arena: PcmArena; blocks: Int16Array[] }>(
  ({ arena, blocks }) => {
    for (const b of blocks) arena.free(b);
  },
);
