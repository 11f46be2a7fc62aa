import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocFrame, FRAME_FRAMES, FRAME_SAMPLES } from "./frame.ts";
import { accumulateAt, mixAt1, mixAt2, mixAt3, mixAt4 } from "./frame-kernel.ts";
import { accumulate, mix1, mix2, mix3, mix4, saturate, UNITY_GAIN, volumeToGain } from "./kernel.ts";
import { Limiter, type LimiterOptions } from "./limiter.ts";
import { Mixer } from "./mixer.ts";
import { pcmArena, SIMD_MAX_GAIN_SUM, simdKernel } from "./simd-kernel.ts";
import { BufferSource, isInPlace, type PcmSource } from "./source.ts";

// The Mixer's kernels (in place, with the frame's peak, the limiter skipped when provably a no-op) against
// kernel.ts's scalar loops and Limiter.process, which stay the reference: same bytes, frame after frame.

/** xorshift32 noise: cheap deterministic frames without fast-check generating 960 numbers each. */
function noise(seed: number, n: number, amp: number): Int16Array {
  let s = seed | 1;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const u = (s >>> 0) / 2 ** 32; // [0, 1)
    out[i] = Math.max(-32768, Math.min(32767, Math.floor((u * 2 - 1) * (amp + 1))));
  }
  return out;
}

/** The source with its in-place path hidden: the Mixer must copy through `read`. */
function copying(src: PcmSource): PcmSource {
  return { read: (out) => src.read(out) };
}

/** The specification: copy each input's frame, then kernel.ts's loops or accumulate + Limiter.process. */
class ReferenceMix {
  private readonly bufs: Int16Array[];
  private readonly srcs: BufferSource[];
  private readonly acc = new Float64Array(FRAME_SAMPLES);
  constructor(
    pcms: Int16Array[],
    private readonly gains: number[],
    readonly limiter: Limiter | null,
  ) {
    this.srcs = pcms.map((p) => new BufferSource(p));
    this.bufs = pcms.map(() => allocFrame());
  }
  mix(out: Int16Array): void {
    const live: Int16Array[] = [];
    const g: number[] = [];
    this.srcs.forEach((s, k) => {
      const frames = s.read(this.bufs[k]!);
      if (frames > 0 && this.gains[k]! > 0) {
        live.push(this.bufs[k]!);
        g.push(this.gains[k]!);
      }
    });
    const S = FRAME_SAMPLES;
    if (this.limiter || live.length > 4) {
      if (live.length === 0) this.acc.fill(0);
      live.forEach((b, k) => {
        accumulate(this.acc, S, b, g[k]!, k === 0);
      });
      if (this.limiter) this.limiter.process(out, FRAME_FRAMES, this.acc);
      else saturate(out, S, this.acc);
      return;
    }
    const [a, b, c, d] = live;
    const [ga, gb, gc, gd] = g;
    if (live.length === 0) out.fill(0);
    else if (live.length === 1) mix1(out, S, a!, ga!);
    else if (live.length === 2) mix2(out, S, a!, ga!, b!, gb!);
    else if (live.length === 3) mix3(out, S, a!, ga!, b!, gb!, c!, gc!);
    else mix4(out, S, a!, ga!, b!, gb!, c!, gc!, d!, gd!);
  }
}

describe("in-place kernels", () => {
  it("equal kernel.ts's loops at any offset, and return the frame's peak before saturation", () => {
    const n = 64;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 0, max: 65536 }), { minLength: 4, maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 4, maxLength: 4 }),
        fc.integer(),
        fc.constantFrom(1000, 20000, 32768),
        (k, gains, offsets, seed, amp) => {
          const arrays = offsets.map((o, j) => noise(seed + j * 7919, o + n, amp));
          const frames = arrays.map((a, j) => a.slice(offsets[j]!, offsets[j]! + n));
          const want = new Int16Array(n);
          const got = new Int16Array(n);
          const [a, b, c, d] = arrays;
          const [fa, fb, fcc, fd] = frames;
          const [ga, gb, gc, gd] = gains;
          const [oa, ob, oc, od] = offsets;
          let peak: number;
          if (k === 1) {
            mix1(want, n, fa!, ga!);
            peak = mixAt1(got, n, a!, oa!, ga!);
          } else if (k === 2) {
            mix2(want, n, fa!, ga!, fb!, gb!);
            peak = mixAt2(got, n, a!, oa!, ga!, b!, ob!, gb!);
          } else if (k === 3) {
            mix3(want, n, fa!, ga!, fb!, gb!, fcc!, gc!);
            peak = mixAt3(got, n, a!, oa!, ga!, b!, ob!, gb!, c!, oc!, gc!);
          } else {
            mix4(want, n, fa!, ga!, fb!, gb!, fcc!, gc!, fd!, gd!);
            peak = mixAt4(got, n, a!, oa!, ga!, b!, ob!, gb!, c!, oc!, gc!, d!, od!, gd!);
          }
          expect(got).toEqual(want);
          let expectedPeak = 0;
          for (let i = 0; i < n; i++) {
            let s = 0;
            for (let j = 0; j < k; j++) s += frames[j]![i]! * gains[j]!;
            expectedPeak = Math.max(expectedPeak, Math.abs(s));
          }
          expect(peak).toBe(expectedPeak);
        },
      ),
      { numRuns: 300, seed: 10 },
    );
  });

  it("accumulateAt equals accumulate on the same frame", () => {
    const a = noise(3, 200, 32768);
    const want = new Float64Array(100);
    const got = new Float64Array(100);
    accumulate(want, 100, a.subarray(37, 137), 65536, true);
    accumulate(want, 100, a.subarray(99, 199), 777, false);
    accumulateAt(got, 100, a, 37, 65536, true);
    accumulateAt(got, 100, a, 99, 777, false);
    expect(got).toEqual(want);
  });
});

describe("the WebAssembly SIMD kernel", () => {
  const simd = simdKernel();

  it("is available on this Node (SIMD and shared memory)", () => {
    expect(simd).not.toBeNull();
  });

  it("mix2 equals kernel.ts's mix2 and bounds mixAt2's peak on random and full-scale frames, at every allowed gain pair", () => {
    const arena = simd!.arena;
    const a = arena.alloc(FRAME_SAMPLES);
    const b = arena.alloc(FRAME_SAMPLES);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: SIMD_MAX_GAIN_SUM }),
        fc.integer({ min: 0, max: SIMD_MAX_GAIN_SUM }),
        fc.integer(),
        fc.constantFrom(100, 32768, -1, -2),
        fc.boolean(),
        (g1, g2, seed, amp, swap) => {
          // Either input may carry the gain of 32768 or more (each has its own kernel variant).
          const ga = swap ? Math.min(g2, SIMD_MAX_GAIN_SUM - g1) : g1;
          const gb = swap ? g1 : Math.min(g2, SIMD_MAX_GAIN_SUM - ga);
          if (amp === -2) {
            a.fill(-32768);
            b.fill(-32768);
          } else if (amp < 0) {
            // The rails: every sample full scale, both signs, where the sums are largest.
            for (let i = 0; i < FRAME_SAMPLES; i++) {
              a[i] = i & 1 ? -32768 : 32767;
              b[i] = i & 2 ? -32768 : 32767;
            }
          } else {
            a.set(noise(seed, FRAME_SAMPLES, amp));
            b.set(noise(seed ^ 0x2545f491, FRAME_SAMPLES, amp));
          }
          const want = allocFrame();
          const got = allocFrame();
          mix2(want, FRAME_SAMPLES, Int16Array.from(a), ga, Int16Array.from(b), gb);
          const wantPeak = mixAt2(allocFrame(), FRAME_SAMPLES, a, 0, ga, b, 0, gb);
          const bound = simd!.mix2(got, a.byteOffset, ga, b.byteOffset, gb);
          expect(got).toEqual(want);
          expect(bound).toBeGreaterThanOrEqual(wantPeak);
          let maxR = 0;
          for (let i = 0; i < FRAME_SAMPLES; i++) {
            maxR = Math.max(maxR, Math.abs(Math.floor((a[i]! * ga + b[i]! * gb + 16384) / 32768)));
          }
          expect(bound).toBe(maxR >= 32767 ? Number.POSITIVE_INFINITY : maxR * 32768 + 16384);
        },
      ),
      { numRuns: 300, seed: 13 },
    );
  });

  it("mix2 writes an output frame that is in the arena in place, with the same bytes and peak", () => {
    const arena = simd!.arena;
    const a = arena.copyOf(noise(21, FRAME_SAMPLES, 32768));
    const b = arena.copyOf(noise(22, FRAME_SAMPLES, 32768));
    const inArena = arena.alloc(FRAME_SAMPLES);
    const plain = allocFrame();
    arena.scratch[0]!.fill(12345);
    const scratchBefore = Int16Array.from(arena.scratch[0]!);
    const p1 = simd!.mix2(inArena, a.byteOffset, 19661, b.byteOffset, 32768);
    // Written in place: the output scratch slot was not touched.
    expect(arena.scratch[0]).toEqual(scratchBefore);
    const p2 = simd!.mix2(plain, a.byteOffset, 19661, b.byteOffset, 32768);
    const want = allocFrame();
    mix2(want, FRAME_SAMPLES, a, 19661, b, 32768);
    expect(inArena).toEqual(want);
    expect(plain).toEqual(want);
    expect(p1).toBe(p2);
    expect(() => simd!.mix2(new Int16Array(8), a.byteOffset, 1, b.byteOffset, 1)).toThrow(RangeError);
    expect(() => simd!.mix2(plain, a.byteOffset, 32768, b.byteOffset, 32768)).toThrow(/gains sum/);
  });

  it("mixN equals kernel.ts's mix1..mix4 for 1-4 inputs at any gains to 65536, and bounds the peak", () => {
    const arena = simd!.arena;
    const frames = [0, 1, 2, 3].map(() => arena.alloc(FRAME_SAMPLES));
    const outs = [arena.alloc(FRAME_SAMPLES), allocFrame()];
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 0, max: 65536 }), { minLength: 4, maxLength: 4 }),
        fc.integer(),
        fc.constantFrom(100, 32768, -1, -2),
        fc.boolean(),
        (n, gains, seed, amp, outInArena) => {
          frames.forEach((f, k) => {
            if (amp === -1) {
              // The rails, mixed signs: sums of every size, the largest products included.
              for (let i = 0; i < FRAME_SAMPLES; i++) f[i] = (i >> k) & 1 ? -32768 : 32767;
            } else if (amp === -2) {
              // Every input at -32768: at 65536 each product is exactly -2^31, the i32 lanes' edge.
              f.fill(-32768);
            } else {
              f.set(noise(seed + k * 7919, FRAME_SAMPLES, amp));
            }
          });
          const [a, b, c, d] = frames as [Int16Array, Int16Array, Int16Array, Int16Array];
          const [ga, gb, gc, gd] = gains as [number, number, number, number];
          const want = allocFrame();
          if (n === 1) mix1(want, FRAME_SAMPLES, a, ga);
          else if (n === 2) mix2(want, FRAME_SAMPLES, a, ga, b, gb);
          else if (n === 3) mix3(want, FRAME_SAMPLES, a, ga, b, gb, c, gc);
          else mix4(want, FRAME_SAMPLES, a, ga, b, gb, c, gc, d, gd);
          const out = outs[outInArena ? 0 : 1]!;
          const at = frames.map((f) => f.byteOffset);
          const bound = simd!.mixN(out, n, at[0]!, ga, at[1]!, gb, at[2]!, gc, at[3]!, gd);
          expect(out).toEqual(want);
          let peak = 0;
          let maxR = 0;
          for (let i = 0; i < FRAME_SAMPLES; i++) {
            let s = 0;
            for (let k = 0; k < n; k++) s += frames[k]![i]! * gains[k]!;
            peak = Math.max(peak, Math.abs(s));
            maxR = Math.max(maxR, Math.abs(Math.floor((s + 16384) / 32768)));
          }
          expect(bound).toBeGreaterThanOrEqual(peak);
          // The bound is the documented one, not merely some large number.
          expect(bound).toBe(maxR >= 32767 ? Number.POSITIVE_INFINITY : maxR * 32768 + 16384);
        },
      ),
      { numRuns: 300, seed: 14 },
    );
    expect(() => simd!.mixN(allocFrame(), 5, 0, 1, 0, 1, 0, 1, 0, 1)).toThrow(RangeError);
  });

  it("a freed arena block is reused, zeroed, by the next allocation of its size; a bad free is refused", () => {
    const arena = pcmArena()!;
    const a = arena.alloc(1000);
    a.fill(7);
    const used = arena.used;
    arena.free(a);
    expect(arena.used).toBe(used - 2000);
    expect(() => arena.free(a)).toThrow(/twice/);
    expect(() => arena.free(new Int16Array(1000))).toThrow(/not a view/);
    const b = arena.alloc(1000);
    expect(b.byteOffset).toBe(a.byteOffset);
    expect(b.every((v) => v === 0)).toBe(true);
    expect(arena.used).toBe(used);
    // Another size does not take it.
    arena.free(b);
    expect(arena.alloc(900).byteOffset).not.toBe(b.byteOffset);
  });

  it("arena views survive the memory growing, and the arena knows its own views", () => {
    const arena = pcmArena()!;
    const early = arena.alloc(8);
    early.set([1, -2, 3, -4, 5, -6, 7, -32768]);
    const big = arena.alloc(3_000_000); // > 1 page: the memory grows
    expect(big.length).toBe(3_000_000);
    expect([...early]).toEqual([1, -2, 3, -4, 5, -6, 7, -32768]);
    expect(arena.addressOf(early)).toBe(early.byteOffset);
    expect(arena.addressOf(big) % 16).toBe(0);
    expect(arena.addressOf(new Int16Array(8))).toBe(-1);
    expect(() => arena.alloc(-1)).toThrow(RangeError);
  });
});

describe("the limiter's exact fast path", () => {
  it("at unity gain and peak <= ceiling, Limiter.process outputs the plain kernel's samples and stays at unity", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 32767 }),
        fc.integer(),
        fc.integer({ min: 0, max: 65536 }),
        fc.integer({ min: 0, max: 65536 }),
        (threshold, seed, ga, gb) => {
          const lim = new Limiter({ threshold, release: 300 });
          const a = noise(seed, FRAME_SAMPLES, 32768);
          const b = noise(seed ^ 0x5bd1e995, FRAME_SAMPLES, 32768);
          // Scale both gains down until the frame's peak is at most the ceiling (it may land exactly on it).
          const plain = allocFrame();
          let peak = mixAt2(plain, FRAME_SAMPLES, a, 0, ga, b, 0, gb);
          while (peak > lim.ceiling) {
            ga >>= 1;
            gb >>= 1;
            peak = mixAt2(plain, FRAME_SAMPLES, a, 0, ga, b, 0, gb);
          }
          const acc = new Float64Array(FRAME_SAMPLES);
          accumulate(acc, FRAME_SAMPLES, a, ga, true);
          accumulate(acc, FRAME_SAMPLES, b, gb, false);
          const limited = allocFrame();
          lim.process(limited, FRAME_FRAMES, acc);
          expect(limited).toEqual(plain);
          expect(lim.gain).toBe(UNITY_GAIN);
        },
      ),
      { numRuns: 200, seed: 11 },
    );
  });

  it("a peak exactly at the ceiling is passed through; one unit above it is limited", () => {
    const lim = new Limiter({ threshold: 1000 });
    const at = Float64Array.from([1000 * UNITY_GAIN, -1000 * UNITY_GAIN]);
    const out = new Int16Array(2);
    lim.process(out, 1, at);
    expect([...out, lim.gain]).toEqual([1000, -1000, UNITY_GAIN]);
    lim.process(out, 1, Float64Array.from([1000 * UNITY_GAIN + 1, 0]));
    expect(lim.gain).toBeLessThan(UNITY_GAIN);
  });
});

describe("Mixer against the scalar reference", () => {
  type Section = 0 | 1 | 2; // silence, quiet (±2000), full scale
  const input = fc.record({
    volume: fc.integer({ min: 0, max: 200 }),
    seed: fc.integer(),
    sections: fc.array(fc.constantFrom<Section>(0, 1, 1, 2), { minLength: 6, maxLength: 6 }),
    // Sample frames cut off the end: the last frame is partial, so the in-place source falls back to `read`.
    short: fc.integer({ min: 0, max: FRAME_FRAMES + 10 }),
    // Where the samples live: a plain array read in place (JS kernel), the SIMD arena (read in place by the
    // SIMD kernel), or behind `read` (copied into the input's buffer, then to a SIMD scratch slot).
    where: fc.constantFrom("plain", "arena", "read"),
  });
  const limiter = fc.option(
    fc.record({
      threshold: fc.integer({ min: 1000, max: 32767 }),
      attack: fc.constantFrom(32768, 16384, 3000),
      release: fc.constantFrom(7, 300, 5000, 32768),
    }),
    { nil: undefined },
  );

  function pcmOf(seed: number, sections: Section[], short: number): Int16Array {
    const amps = [0, 2000, 32768];
    const pcm = new Int16Array(sections.length * FRAME_SAMPLES);
    sections.forEach((s, f) => {
      pcm.set(noise(seed + f, FRAME_SAMPLES, amps[s]!), f * FRAME_SAMPLES);
    });
    return pcm.subarray(0, pcm.length - short * 2);
  }

  it("0..5 inputs, random and saturating, gains to 200%, limiter state carried frame to frame", () => {
    // (The SIMD kernel takes the frames with 1-2 inputs whose gains sum <= 65535 and whose samples it can
    // read; the rest go through the JS kernels. Either way the bytes must be the reference's.)
    fc.assert(
      fc.property(fc.array(input, { minLength: 0, maxLength: 5 }), limiter, (inputs, lim) => {
        const pcms = inputs.map((i) => pcmOf(i.seed, i.sections, i.short));
        const gains = inputs.map((i) => volumeToGain(i.volume));
        const opts: LimiterOptions | undefined = lim;
        const m = new Mixer({ limiter: opts ?? false });
        inputs.forEach((i, k) => {
          const pcm = i.where === "arena" ? pcmArena()!.copyOf(pcms[k]!) : pcms[k]!;
          const src = new BufferSource(pcm);
          m.add(i.where === "read" ? copying(src) : src, { volume: i.volume });
        });
        const ref = new ReferenceMix(pcms, gains, opts ? new Limiter(opts) : null);
        const got = allocFrame();
        const want = allocFrame();
        for (let f = 0; f < 8; f++) {
          m.mix(got);
          ref.mix(want);
          expect(got).toEqual(want);
          expect(m.limiter?.gain).toBe(ref.limiter?.gain);
        }
      }),
      { numRuns: 100, seed: 12 },
    );
  });

  it("after a loud transient, frames recovering below unity go through the limiter and match it exactly", () => {
    // One full-scale frame at 200% then quiet music: the gain drops, then recovers over ~13 frames with the
    // default release; the fast path must not be taken until the gain is back at unity.
    const loud = noise(1, FRAME_SAMPLES, 32768);
    const quiet = noise(2, 40 * FRAME_SAMPLES, 3000);
    const pcm = new Int16Array(41 * FRAME_SAMPLES);
    pcm.set(loud, 0);
    pcm.set(quiet, FRAME_SAMPLES);
    const m = new Mixer({ limiter: true });
    m.add(new BufferSource(pcm), { volume: 200 });
    m.add(new BufferSource(noise(3, 41 * FRAME_SAMPLES, 3000)), { volume: 60 });
    const ref = new ReferenceMix(
      [pcm, noise(3, 41 * FRAME_SAMPLES, 3000)],
      [65536, volumeToGain(60)],
      new Limiter(),
    );
    const got = allocFrame();
    const want = allocFrame();
    const gains: number[] = [];
    for (let f = 0; f < 41; f++) {
      m.mix(got);
      ref.mix(want);
      expect(got).toEqual(want);
      gains.push(m.limiter!.gain);
    }
    expect(gains[0]).toBeLessThan(UNITY_GAIN / 2);
    expect(gains[5]).toBeLessThan(UNITY_GAIN);
    expect(gains.at(-1)).toBe(UNITY_GAIN);
  });

  it("BufferSource is read in place and advances exactly as read() would", () => {
    const pcm = noise(4, FRAME_SAMPLES * 2 + 10, 30000);
    const a = new BufferSource(pcm);
    const b = new BufferSource(pcm);
    expect(isInPlace(a)).toBe(true);
    expect(isInPlace(copying(a))).toBe(false);
    const buf = allocFrame();
    expect(a.takeFrame()).toBe(0);
    expect(b.read(buf)).toBe(FRAME_FRAMES);
    expect(a.takeFrame()).toBe(FRAME_SAMPLES);
    b.read(buf);
    // 5 sample frames left: no whole frame, the caller reads the tail through read().
    expect(a.takeFrame()).toBe(-1);
    expect(a.read(buf)).toBe(5);
    expect(a.takeFrame()).toBe(-1);
    expect(a.read(buf)).toBe(0);
  });
});
