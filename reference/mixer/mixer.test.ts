import { setImmediate as turn } from "node:timers/promises";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { allocFrame, FRAME_FRAMES, FRAME_SAMPLES } from "./frame.ts";
import { UNITY_GAIN, volumeToGain } from "./kernel.ts";
import { Limiter } from "./limiter.ts";
import { Mixer } from "./mixer.ts";
import { simdKernel } from "./simd-kernel.ts";
import { BufferSource, type PcmSource } from "./source.ts";

/** `frames` 10 ms frames whose samples repeat `pattern`, offset by frame index so frames differ. */
function patterned(pattern: number[], frames = 1, step = 0): Int16Array {
  const pcm = new Int16Array(FRAME_SAMPLES * frames);
  for (let i = 0; i < pcm.length; i++) {
    const f = Math.floor(i / FRAME_SAMPLES);
    pcm[i] = Math.max(-32768, Math.min(32767, pattern[i % pattern.length]! + f * step));
  }
  return pcm;
}

function mixOnce(inputs: { pcm: Int16Array; volume?: number }[], opts = {}): Int16Array {
  const m = new Mixer(opts);
  for (const i of inputs) m.add(new BufferSource(i.pcm), { volume: i.volume ?? 100 });
  const out = allocFrame();
  m.mix(out);
  return out;
}

const XS = [1000, -1000, 3, -3, 12345, -12345, 32767, -32768];

describe("Mixer gain", () => {
  it("applies the SDK volume exactly: 0, unity, odd values and 200%", () => {
    const pcm = patterned(XS);
    const head = (volume: number) => [...mixOnce([{ pcm, volume }]).subarray(0, 8)];
    expect(head(0)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(head(100)).toEqual(XS);
    expect(head(1)).toEqual([10, -10, 0, 0, 124, -124, 328, -328]);
    expect(head(33)).toEqual([330, -330, 1, -1, 4074, -4074, 10813, -10813]);
    expect(head(150)).toEqual([1500, -1500, 5, -4, 18518, -18517, 32767, -32768]);
    expect(head(199)).toEqual([1990, -1990, 6, -6, 24566, -24566, 32767, -32768]);
    expect(head(200)).toEqual([2000, -2000, 6, -6, 24690, -24690, 32767, -32768]);
  });

  it("unity passes a whole frame through bit-exactly", () => {
    const pcm = patterned([7, -32768, 32767, 0, -1, 12000], 1);
    expect(mixOnce([{ pcm }])).toEqual(pcm);
  });

  it("sums inputs and saturates at both rails", () => {
    const a = patterned([30000, -30000, 30000, 20000]);
    const b = patterned([30000, -30000, -30000, -25000]);
    expect([...mixOnce([{ pcm: a }, { pcm: b }]).subarray(0, 4)]).toEqual([32767, -32768, 0, -5000]);
  });

  it("mixes more than four inputs through the general path with the same arithmetic", () => {
    const patterns = [
      [9000, -9000, 1, 3],
      [9000, -9000, 0, 0],
      [9000, -9000, 0, 0],
      [9000, -9000, 0, 0],
      [9000, -9000, 0, 0],
      [1, -1, 1, 0],
    ];
    const volumes = [100, 100, 100, 100, 100, 50];
    const out = mixOnce(patterns.map((p, k) => ({ pcm: patterned(p), volume: volumes[k]! })));
    // 5·9000 + 0.5 = 45000.5 → saturates; 1 + 0.5 = 1.5 → 2 (half up); 3 + 0 = 3.
    expect([...out.subarray(0, 4)]).toEqual([32767, -32768, 2, 3]);
  });

  it("setGain takes raw Q15 gains; setVolume validates the SDK range", () => {
    const m = new Mixer();
    const id = m.add(new BufferSource(patterned([10000])));
    m.setGain(id, UNITY_GAIN + UNITY_GAIN / 2);
    expect(m.gain(id)).toBe(49152);
    const out = allocFrame();
    m.mix(out);
    expect(out[0]).toBe(15000);
    expect(() => m.setVolume(id, 201)).toThrow(RangeError);
    expect(() => m.setGain(id, 65537)).toThrow(RangeError);
    expect(() => m.setVolume(999, 10)).toThrow(RangeError);
    m.setVolume(id, 60);
    expect(m.gain(id)).toBe(volumeToGain(60));
  });
});

describe("Mixer inputs", () => {
  it("a muted input keeps its place in time and contributes nothing", () => {
    const m = new Mixer();
    const id = m.add(new BufferSource(patterned([100], 3, 100)), { muted: true });
    const out = allocFrame();
    expect(m.mix(out)).toBe(0);
    expect(out.every((x) => x === 0)).toBe(true);
    m.mix(out);
    m.setMuted(id, false);
    expect(m.mix(out)).toBe(1);
    // Frame 2 of the source (100 + 2·100), not frame 0: muting did not pause it.
    expect(out[0]).toBe(300);
  });

  it("a removed input is no longer read or mixed", () => {
    let reads = 0;
    const counting: PcmSource = {
      read(out) {
        reads++;
        out.fill(500);
        return FRAME_FRAMES;
      },
    };
    const m = new Mixer();
    const a = m.add(counting);
    m.add(new BufferSource(patterned([1], 5)));
    const out = allocFrame();
    m.mix(out);
    expect(out[0]).toBe(501);
    expect(m.remove(a)).toBe(true);
    expect(m.remove(a)).toBe(false);
    expect(m.has(a)).toBe(false);
    m.mix(out);
    expect(reads).toBe(1);
    expect(out[0]).toBe(1);
    expect(m.size).toBe(1);
  });

  it("reports each input's real frames and mixes silence after a source ends", () => {
    const m = new Mixer();
    const pcm = patterned([2000], 1).subarray(0, 300 * 2); // 300 sample frames, then the end
    const id = m.add(new BufferSource(pcm));
    const out = allocFrame();
    m.mix(out);
    expect(m.lastFrames(id)).toBe(300);
    expect(out[599]).toBe(2000);
    expect(out[600]).toBe(0);
    expect(m.mix(out)).toBe(0);
    expect(m.lastFrames(id)).toBe(0);
    expect(out.every((x) => x === 0)).toBe(true);
  });

  it("refuses an output buffer that is not one frame", () => {
    expect(() => new Mixer().mix(new Int16Array(10))).toThrow(RangeError);
  });
});

describe("Mixer with the limiter", () => {
  it("limits the sum exactly as the Limiter specifies, carrying its gain across frames", () => {
    const a = patterned([30000, -30000, 1000, 1000], 2);
    const b = patterned([20000, -20000, 1000, 1000], 2);
    const opts = { threshold: 32000, release: 100 };
    const m = new Mixer({ limiter: opts });
    m.add(new BufferSource(a));
    m.add(new BufferSource(b));
    const ref = new Limiter(opts);
    const acc = new Float64Array(FRAME_SAMPLES);
    const got = allocFrame();
    const want = allocFrame();
    const firstFrame: number[] = [];
    for (let f = 0; f < 2; f++) {
      m.mix(got);
      if (f === 0) firstFrame.push(got[0]!, got[1]!);
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        const k = f * FRAME_SAMPLES + i;
        acc[i] = (a[k]! + b[k]!) * UNITY_GAIN;
      }
      ref.process(want, FRAME_FRAMES, acc);
      expect(got).toEqual(want);
    }
    // By hand: peak 50000 → g = floor(32000·2^15 / 50000) = 20971, y = floor(±50000·20971/2^15 + 0.5) = ±31999.
    expect(firstFrame).toEqual([31999, -31999]);
    expect(m.limiter!.gain).toBeLessThan(UNITY_GAIN);
  });
});

describe("Mixer input buffers in the SIMD kernel's memory", () => {
  const kernel = simdKernel();
  /** A source that is not in place: fills the mixer's buffer with seeded frames (so the mixer must copy nothing). */
  const filling = (seed: number): PcmSource => {
    let f = 0;
    return {
      read(out) {
        for (let i = 0; i < out.length; i++) out[i] = (Math.imul(i + 1 + f * 7919, seed) >> 18) | 0;
        f++;
        return FRAME_FRAMES;
      },
    };
  };

  it.runIf(kernel !== null)(
    "a source's frame is mixed where it wrote it: no copy into a scratch slot",
    () => {
      const arena = kernel!.arena;
      for (const s of arena.scratch.slice(1)) s.fill(0);
      for (const n of [1, 2, 3, 4]) {
        const simd = new Mixer();
        const js = new Mixer({ simd: false });
        for (let k = 0; k < n; k++) {
          simd.add(filling(0x9e3779b1 + k), { volume: 60 + 20 * k });
          js.add(filling(0x9e3779b1 + k), { volume: 60 + 20 * k });
        }
        const a = allocFrame();
        const b = allocFrame();
        for (let frame = 0; frame < 5; frame++) {
          simd.mix(a);
          js.mix(b);
          expect(a).toEqual(b);
        }
      }
      // The input scratch slots were never written (before, each input's buffer was copied into one per frame).
      for (const s of arena.scratch.slice(1)) expect(s.every((v) => v === 0)).toBe(true);
    },
  );

  it.runIf(kernel !== null)(
    "removing an input gives its buffer back: add/remove cycles do not grow the arena",
    () => {
      const arena = kernel!.arena;
      const m = new Mixer();
      m.add(filling(3));
      const id = m.add(filling(5));
      m.remove(id);
      const used = arena.used;
      for (let i = 0; i < 100; i++) m.remove(m.add(filling(i)));
      expect(arena.used).toBe(used);
    },
  );

  it.runIf(kernel !== null)(
    "a mixer collected with its inputs still on gives their buffers back",
    async () => {
      v8.setFlagsFromString("--expose-gc");
      const gc = runInNewContext("gc") as () => void;
      const arena = kernel!.arena;
      const make = () => {
        const m = new Mixer();
        m.add(filling(1));
        m.add(filling(2));
      };
      make();
      gc();
      for (let i = 0; i < 5; i++) await turn();
      const used = arena.used;
      for (let i = 0; i < 50; i++) make();
      for (let round = 0; round < 20 && arena.used > used; round++) {
        gc();
        await turn();
      }
      expect(arena.used).toBe(used);
    },
  );
});
