import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Simulator } from "../../simulator/app.ts";
import { call, session, testSimulator } from "../../test/sim.ts";
import { FIR_BLOCK, firSimd, simdExact } from "./fir-simd.ts";
import { DEFAULT_TAPS, Resampler } from "./resampler.ts";
import { OracleResampler } from "./resampler-oracle.ts";

const OUT = 48_000;
const TIERS = [
  { rate: 8000, channels: 1 },
  { rate: 10000, channels: 2 },
  { rate: 44100, channels: 2 },
] as const;

function sine(rate: number, channels: number, freq: number, seconds: number, amp = 16000): Int16Array {
  const n = Math.round(rate * seconds);
  const pcm = new Int16Array(n * channels);
  for (let k = 0; k < n; k++) {
    const v = Math.round(amp * Math.sin((2 * Math.PI * freq * k) / rate));
    for (let c = 0; c < channels; c++) pcm[k * channels + c] = v;
  }
  return pcm;
}

/** What resampleAll needs of a resampler: today's and the oracle's (the implementation before SIMD). */
type AnyResampler = Pick<Resampler, "inChannels" | "inRate" | "drained" | "read" | "write" | "end">;

/** Feeds everything at once, ends, drains: the reference run chunked runs must equal. */
function resampleAll(rs: AnyResampler, input: Int16Array): Int16Array {
  const frames = input.length / rs.inChannels;
  const out = new Int16Array((Math.ceil((frames * OUT) / rs.inRate) + 8) * 2);
  let written = 0;
  let made = 0;
  for (let guard = 0; guard < 1e6 && !rs.drained; guard++) {
    made += rs.read(out, made, out.length / 2 - made);
    if (written < frames) {
      const chunk = input.subarray(written * rs.inChannels);
      written += rs.write(chunk, Math.min(frames - written, chunk.length / rs.inChannels));
    } else rs.end();
  }
  expect(rs.drained).toBe(true);
  return out.subarray(0, made * 2);
}

/** Least-squares fit of a sine at `freq` on the left channel's middle half: gain vs `amp` and residual in dB. */
function analyse(out: Int16Array, freq: number, amp = 16000): { gainDb: number; residualDb: number } {
  const frames = out.length / 2;
  const a0 = Math.floor(frames / 4);
  const a1 = Math.floor((3 * frames) / 4);
  let ss = 0;
  let cc = 0;
  let sc = 0;
  let ys = 0;
  let yc = 0;
  for (let k = a0; k < a1; k++) {
    const t = (2 * Math.PI * freq * k) / OUT;
    const s = Math.sin(t);
    const c = Math.cos(t);
    const y = out[k * 2]!;
    ss += s * s;
    cc += c * c;
    sc += s * c;
    ys += y * s;
    yc += y * c;
  }
  const det = ss * cc - sc * sc;
  const bs = (ys * cc - yc * sc) / det;
  const bc = (yc * ss - ys * sc) / det;
  let res = 0;
  let sig = 0;
  for (let k = a0; k < a1; k++) {
    const t = (2 * Math.PI * freq * k) / OUT;
    const fit = bs * Math.sin(t) + bc * Math.cos(t);
    res += (out[k * 2]! - fit) ** 2;
    sig += fit * fit;
  }
  return { gainDb: 20 * Math.log10(Math.hypot(bs, bc) / amp), residualDb: 10 * Math.log10(res / sig) };
}

/** Frequency from rising zero crossings with linear interpolation: independent of the fit above. */
function zeroCrossingFrequency(out: Int16Array): number {
  const frames = out.length / 2;
  let first = -1;
  let last = -1;
  let count = 0;
  for (let k = Math.floor(frames / 8); k < Math.floor((7 * frames) / 8); k++) {
    const a = out[k * 2]!;
    const b = out[(k + 1) * 2]!;
    if (a < 0 && b >= 0) {
      const at = k + a / (a - b);
      if (first < 0) first = at;
      else count++;
      last = at;
    }
  }
  return (count * OUT) / (last - first);
}

describe("Resampler exactness", () => {
  it.each([...TIERS, { rate: 44099, channels: 2 }, { rate: 96000, channels: 2 }])(
    "DC stays exactly DC ($rate Hz, $channels ch)",
    ({ rate, channels }) => {
      for (const level of [12345, -32768, 32767]) {
        const input = new Int16Array(rate * channels).fill(level); // 1 s
        const out = resampleAll(new Resampler(rate, channels), input);
        // Past the filter's lead-in and before its tail every tap sees the constant.
        const margin = Math.ceil((DEFAULT_TAPS * 4 * OUT) / rate);
        for (let k = margin; k < out.length / 2 - margin; k++) {
          if (out[2 * k] !== level || out[2 * k + 1] !== level) {
            throw new Error(`frame ${k}: ${out[2 * k]},${out[2 * k + 1]} != ${level}`);
          }
        }
      }
    },
  );

  it.each([...TIERS, { rate: 44099, channels: 2 }, { rate: 96000, channels: 1 }])(
    "K input frames give exactly ceil(K·48000/rate) outputs over a long stream ($rate Hz)",
    ({ rate, channels }) => {
      const rs = new Resampler(rate, channels, { maxChunkFrames: 4096 });
      const chunk = new Int16Array(4096 * channels);
      const out = new Int16Array(8192 * 2);
      const K = rate * 20 + 7; // 20 s and a few odd frames: ~10^6 outputs
      let written = 0;
      let made = 0;
      while (!rs.drained) {
        made += rs.read(out, 0, 8192);
        if (written < K) written += rs.write(chunk, Math.min(K - written, 4096));
        else rs.end();
      }
      expect(written).toBe(K);
      expect(made).toBe(Math.ceil((K * OUT) / rate));
      expect(rs.totalOutputFrames()).toBe(made);
    },
  );

  it("any K gives exactly ceil(K·L/M) outputs", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(8000, 10000, 44100, 22050, 32000, 44099, 96000),
        fc.nat(3000),
        (rate, K) => {
          const out = resampleAll(new Resampler(rate, 1), new Int16Array(K));
          expect(out.length / 2).toBe(Math.ceil((K * OUT) / rate));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("output is independent of how input and output are chunked", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TIERS, { rate: 44099, channels: 2 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 900 }), { minLength: 1, maxLength: 30 }),
        ({ rate, channels }, writes, reads) => {
          const frames = Math.round(rate * 0.08);
          const input = new Int16Array(frames * channels);
          for (let i = 0; i < input.length; i++) input[i] = ((i * 7919) % 50000) - 25000;
          const whole = resampleAll(new Resampler(rate, channels), input);
          const rs = new Resampler(rate, channels, { maxChunkFrames: 256 });
          const out = new Int16Array(whole.length);
          let written = 0;
          let made = 0;
          for (let step = 0; !rs.drained; step++) {
            if (step > 100_000) throw new Error("no progress");
            made += rs.read(out, made, Math.min(reads[step % reads.length]!, out.length / 2 - made));
            if (written < frames) {
              const want = Math.min(writes[step % writes.length]!, frames - written);
              const part = input.slice(written * channels, (written + want) * channels);
              written += rs.write(part, want);
            } else rs.end();
          }
          expect(made * 2).toBe(whole.length);
          expect(out).toEqual(whole);
        },
      ),
      { numRuns: 30 },
    );
  });

  it("48 kHz stereo passes through bit-exactly", () => {
    const input = new Int16Array(4801 * 2);
    for (let i = 0; i < input.length; i++) input[i] = ((i * 31337) % 65536) - 32768;
    expect(resampleAll(new Resampler(48000, 2), input)).toEqual(input);
  });

  it("maps channels: mono to both sides, a chosen track of a dual-track file", () => {
    const quad = new Int16Array(4800 * 4);
    for (let k = 0; k < 4800; k++) quad.set([100, 200, 300, 400], k * 4);
    const out = resampleAll(new Resampler(48000, 4, { channelMap: [2, 3] }), quad);
    expect([out[200], out[201]]).toEqual([300, 400]);
    const mono = resampleAll(new Resampler(8000, 1), new Int16Array(800).fill(-7));
    expect([mono[1000], mono[1001]]).toEqual([-7, -7]);
  });

  it("a mono source (one dot product per frame) equals the two-channel loop sample for sample", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(8000, 10000, 11025, 22050, 44100, 44099, 96000),
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (rate, frames, seed) => {
          // Random, saturating input: a full-scale square wave every few frames drives the accumulator clamp.
          const mono = new Int16Array(frames);
          let x = seed >>> 0;
          for (let k = 0; k < frames; k++) {
            x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
            mono[k] = k % 7 < 3 ? (k & 1 ? 32767 : -32768) : (x >>> 16) - 32768;
          }
          const stereo = new Int16Array(frames * 2);
          for (let k = 0; k < frames; k++) stereo.set([mono[k]!, mono[k]!], k * 2);
          // [0, 0] takes the mirrored path; the same samples as two channels [0, 1] take the general one.
          const mirrored = resampleAll(new Resampler(rate, 1), mono);
          const general = resampleAll(new Resampler(rate, 2, { channelMap: [0, 1] }), stereo);
          expect(mirrored).toEqual(general);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("is bit-exact across instances", () => {
    const input = sine(44100, 2, 997, 0.5);
    expect(resampleAll(new Resampler(44100, 2), input)).toEqual(resampleAll(new Resampler(44100, 2), input));
  });

  it("rejects impossible settings with clear errors", () => {
    expect(() => new Resampler(500, 1)).toThrow(/sample rate/);
    expect(() => new Resampler(44100.5, 1)).toThrow(/sample rate/);
    expect(() => new Resampler(8000, 0)).toThrow(/channels/);
    expect(() => new Resampler(8000, 2, { channelMap: [0, 2] })).toThrow(/channel map/);
    expect(() => new Resampler(8000, 1, { taps: 7 })).toThrow(/taps/);
    expect(() => new Resampler(8000, 1).write(new Int16Array(4), 5)).toThrow(RangeError);
  });
});

describe("Resampler quality (the figures documented in resampler.ts)", () => {
  it.each(TIERS)(
    "a sine keeps its frequency and level, images ≥ 70 dB down ($rate Hz)",
    ({ rate, channels }) => {
      for (const frac of [0.05, 0.2, 0.3]) {
        const f = Math.round(rate * frac);
        const out = resampleAll(new Resampler(rate, channels), sine(rate, channels, f, 0.5));
        const { gainDb, residualDb } = analyse(out, f);
        expect(Math.abs(gainDb)).toBeLessThan(0.01);
        expect(residualDb).toBeLessThan(-70);
        expect(Math.abs(zeroCrossingFrequency(out) / f - 1)).toBeLessThan(1e-3);
      }
      // Edge of the passband and the transition band.
      const at40 = analyse(
        resampleAll(new Resampler(rate, channels), sine(rate, channels, rate * 0.4, 0.5)),
        rate * 0.4,
      );
      expect(at40.gainDb).toBeGreaterThan(-0.2);
      expect(at40.residualDb).toBeLessThan(-70);
      const at45 = analyse(
        resampleAll(new Resampler(rate, channels), sine(rate, channels, rate * 0.45, 0.5)),
        rate * 0.45,
      );
      expect(at45.gainDb).toBeGreaterThan(-6);
      expect(at45.gainDb).toBeLessThan(-3);
    },
  );

  it("a rate with no small ratio to 48 kHz (quantized phase) stays above 60 dB", () => {
    for (const f of [2205, 13230, 17640]) {
      const { gainDb, residualDb } = analyse(resampleAll(new Resampler(44099, 2), sine(44099, 2, f, 0.5)), f);
      expect(Math.abs(gainDb)).toBeLessThan(0.2);
      expect(residualDb).toBeLessThan(-60);
    }
  });

  it("down-sampling removes content above the output's Nyquist instead of aliasing it", () => {
    const pass = analyse(resampleAll(new Resampler(96000, 1), sine(96000, 1, 4800, 0.5)), 4800);
    expect(Math.abs(pass.gainDb)).toBeLessThan(0.01);
    // 30 kHz would alias to 18 kHz: measure what lands there.
    const stop = analyse(resampleAll(new Resampler(96000, 1), sine(96000, 1, 30000, 0.5)), 18000);
    expect(stop.gainDb).toBeLessThan(-60);
  });
});

/** Seeded full-scale noise (LCG), `frames` x `channels`. */
function noise(frames: number, channels: number, seed: number): Int16Array {
  const pcm = new Int16Array(frames * channels);
  let x = seed >>> 0;
  for (let i = 0; i < pcm.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    pcm[i] = (x >>> 16) - 32768;
  }
  return pcm;
}

/** Runs `make()` over `input` with the given write and read sizes (cycled), ending after the last input. */
function resampleChunked(rs: AnyResampler, input: Int16Array, writes: number[], reads: number[]): Int16Array {
  const ch = rs.inChannels;
  const frames = input.length / ch;
  const out = new Int16Array((Math.ceil((frames * OUT) / rs.inRate) + 8) * 2);
  let written = 0;
  let made = 0;
  for (let step = 0; !rs.drained; step++) {
    if (step > 1_000_000) throw new Error("no progress");
    made += rs.read(out, made, Math.min(reads[step % reads.length]!, out.length / 2 - made));
    if (written < frames) {
      const want = Math.min(writes[step % writes.length]!, frames - written);
      written += rs.write(input.subarray(written * ch, (written + want) * ch), want);
    } else rs.end();
  }
  return out.subarray(0, made * 2);
}

/** Int16 samples differing between two outputs, with the first difference (for a readable failure). */
function firstDifference(a: Int16Array, b: Int16Array): string | null {
  if (a.length !== b.length) return `lengths ${a.length} != ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return `sample ${i} (frame ${i >> 1}): ${a[i]} != ${b[i]}`;
  }
  return null;
}

// The FIR moved to WebAssembly SIMD (fir-simd.ts). Its claim is bit-identity: with the JS loops it replaced
// (kernel: "js") and with the implementation before it (resampler-oracle.ts, the file as it was), on every
// rate shape, channel layout and chunking, on full-scale noise, on input built to drive a branch's sum past
// the i32 range, and on songs the simulator renders.
describe("Resampler SIMD kernel: bit-identical to the JS loops and to the implementation before it", () => {
  const SHAPES = [
    { rate: 8000, channels: 1 },
    { rate: 10000, channels: 2 },
    { rate: 44100, channels: 2 },
    { rate: 44100, channels: 1 },
    { rate: 44099, channels: 1 }, // quantized phase (L > 1024)
    { rate: 11025, channels: 2 },
    { rate: 16000, channels: 1 },
    { rate: 22050, channels: 2 },
    { rate: 88200, channels: 2 }, // down-sampling: 60 taps, zero-padded to 64 in the kernel
    { rate: 96000, channels: 1 },
  ] as const;

  it("runs on this Node (WebAssembly SIMD) and takes every default table the resampler designs", () => {
    expect(firSimd()).not.toBeNull();
    for (const { rate, channels } of SHAPES)
      expect(new Resampler(rate, channels).kernel, `${rate}`).toBe("simd");
    expect(new Resampler(8000, 1, { kernel: "js" }).kernel).toBe("js");
    // Wider than the unrolled modules go: the JS loop.
    expect(new Resampler(8000, 1, { taps: 256 }).kernel).toBe("js");
  });

  it.each(SHAPES)(
    "full-scale noise, whole and in blocks larger than a kernel call ($rate Hz, $channels ch)",
    ({ rate, channels }) => {
      const input = noise(Math.round(rate * 0.35), channels, rate + channels);
      const oracle = resampleAll(new OracleResampler(rate, channels), input);
      const js = resampleAll(new Resampler(rate, channels, { kernel: "js" }), input);
      const simd = resampleAll(new Resampler(rate, channels), input);
      expect(firstDifference(js, oracle)).toBeNull();
      expect(firstDifference(simd, oracle)).toBeNull();
      // One read for more than FIR_BLOCK outputs: the kernel is called block after block.
      const big = resampleChunked(
        new Resampler(rate, channels, { maxChunkFrames: 20_000 }),
        input,
        [20_000],
        [FIR_BLOCK * 3 + 17],
      );
      expect(firstDifference(big, oracle)).toBeNull();
      // An output buffer that is not 4-byte aligned: the kernel's 32-bit words are split into samples.
      const rs = new Resampler(rate, channels, { maxChunkFrames: input.length / channels });
      const frames = oracle.length / 2;
      const odd = new Int16Array(new ArrayBuffer((frames + 1) * 4), 2, frames * 2);
      expect(rs.write(input, input.length / channels)).toBe(input.length / channels);
      rs.end();
      let made = 0;
      while (!rs.drained) made += rs.read(odd, made, Math.min(FIR_BLOCK + 5, frames - made));
      expect(firstDifference(odd, oracle)).toBeNull();
    },
  );

  it("any chunking of input and output, any channel map (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SHAPES),
        fc.array(fc.integer({ min: 1, max: 900 }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 1300 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.boolean(),
        ({ rate, channels }, writes, reads, seed, swap) => {
          const input = noise(Math.round(rate * 0.05) + (seed % 97), channels, seed);
          const map: [number, number] = channels === 1 ? [0, 0] : swap ? [1, 1] : [1, 0];
          const oracle = resampleAll(new OracleResampler(rate, channels, { channelMap: map }), input);
          const rs = new Resampler(rate, channels, { channelMap: map, maxChunkFrames: 512 });
          const simd = resampleChunked(rs, input, writes, reads);
          expect(firstDifference(simd, oracle)).toBeNull();
        },
      ),
      { numRuns: 40 },
    );
  });

  it.each([8000, 10000, 44100, 44099])(
    "input that drives a branch's sum past the i32 range saturates as in JS (%i Hz)",
    (rate) => {
      // For outputs spread over the phases: the 32 inputs under its taps set to the rails with its coefficients'
      // signs, so |Σ x·c| = 32767·Σc+ + 32768·Σ|c−| exceeds 2^31 on the branches with the largest Σ|c|.
      const probe = new Resampler(rate, 1);
      const { coeffs } = probe as unknown as { coeffs: Int32Array };
      const { up, down, taps } = probe;
      const phases = Math.min(up, 1024);
      const half = taps / 2;
      const frames = rate;
      const input = new Int16Array(frames);
      let beyond = 0;
      let lastEnd = -1;
      // The branches that can leave the i32 range at all: Σ|c| above 65536.
      const wide = new Set<number>();
      for (let q = 0; q < phases; q++) {
        let abs = 0;
        for (let j = 0; j < taps; j++) abs += Math.abs(coeffs[q * taps + j]!);
        if (abs > 65_536) wide.add(q);
      }
      for (let n = 0; ; n++) {
        const idx = Math.floor((n * down) / up);
        const phase = (n * down) % up;
        const first = idx - half + 1;
        if (first + taps > frames) break;
        const branch = phases === up ? phase : Math.floor((phase * phases) / up);
        if (first <= lastEnd || !wide.has(branch)) continue; // windows must not overlap
        let sum = 0;
        for (let j = 0; j < taps; j++) {
          const c = coeffs[branch * taps + j]!;
          input[first + j] = c >= 0 ? 32767 : -32768;
          sum += input[first + j]! * c;
        }
        if (sum > 2 ** 31 - 1) beyond++;
        lastEnd = first + taps - 1;
      }
      expect(beyond).toBeGreaterThan(0);
      const oracle = resampleAll(new OracleResampler(rate, 1), input);
      const simd = resampleAll(new Resampler(rate, 1), input);
      expect(firstDifference(simd, oracle)).toBeNull();
      // The rails were reached: the clamp ran.
      expect(simd.includes(32767)).toBe(true);
      // The negated input drives the sums the other way.
      const neg = input.map((v) => (v === 32767 ? -32768 : v === -32768 ? 32767 : v));
      expect(
        firstDifference(
          resampleAll(new Resampler(rate, 1), neg),
          resampleAll(new OracleResampler(rate, 1), neg),
        ),
      ).toBeNull();
    },
  );

  it("refuses tables whose lanes could wrap (then the resampler keeps the JS loop)", () => {
    // One branch of 8 taps: lane 0 holds taps 0 and 1.
    expect(simdExact(Int32Array.from([32767, 32767, 0, 0, 0, 0, 0, 0]), 1, 8)).toBe(true);
    expect(simdExact(Int32Array.from([32767, 32769, 0, 0, 0, 0, 0, 0]), 1, 8)).toBe(false);
    expect(simdExact(Int32Array.from([32767, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]), 1, 16)).toBe(
      true,
    );
    expect(simdExact(Int32Array.from([32767, 0, 0, 0, 0, 0, 0, 0, 32767, 2, 0, 0, 0, 0, 0, 0]), 1, 16)).toBe(
      false,
    );
    // The whole branch may exceed 65535 when no lane does.
    expect(simdExact(Int32Array.from([30000, 0, 30000, 0, 30000, 0, 30000, 0]), 1, 8)).toBe(true);
    expect(simdExact(Int32Array.from([0, 0, 0, 0, 0, 0, 0, -32769]), 1, 8)).toBe(false);
  });

  describe("on songs the simulator renders (a clip of each CDN tier)", () => {
    let sim: Simulator;
    let headers: Record<string, string>;
    beforeAll(async () => {
      sim = await testSimulator();
      headers = await session(sim.url, "resampler");
    });
    afterAll(() => sim.close());

    /** `seconds` of a singable song's audio at `quality` from 20 s in: the file's frames, interleaved. */
    async function download(
      resourceType: number,
      quality: number,
      channels: number,
      rate: number,
      seconds: number,
    ) {
      const song = (() => {
        for (let i = 0; i < sim.ctx.catalog.size; i++) {
          const f = sim.ctx.catalog.at(i);
          if (
            f.item.vendor_id === 0 &&
            f.item.copyright.recording === 1 &&
            f.has_accompaniment &&
            !f.pure_music &&
            !sim.ctx.catalog.isRevoked(f.item.song_id)
          )
            return f;
        }
        throw new Error("no song");
      })();
      const r = await call(sim.url, "POST", "/v1/music/resource", {
        headers,
        body: {
          song_id: song.item.song_id,
          resource_type: resourceType,
          quality,
          billing_mode: 0,
          vendor_id: 0,
        },
      });
      expect(r.body.code, JSON.stringify(r.body)).toBe(0);
      const id = r.body.data.resources[0].resource_id as string;
      const frameBytes = channels * 2;
      const from = 44 + 20 * rate * frameBytes;
      const to = from + Math.round(seconds * rate) * frameBytes - 1;
      const res = await fetch(`${sim.url}/v1/music/download/${id}`, {
        headers: { ...headers, range: `bytes=${from}-${to}` },
      });
      expect(res.status).toBe(206);
      const bytes = new Uint8Array(await res.arrayBuffer());
      const pcm = new Int16Array(bytes.length / 2);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < pcm.length; i++) pcm[i] = view.getInt16(i * 2, true);
      return pcm;
    }

    it.each([
      {
        tier: "normal accompaniment, dual-track mono",
        type: 1,
        quality: 0,
        channels: 2,
        rate: 8000,
        maps: [
          [0, 0],
          [1, 1],
        ],
      },
      { tier: "hq song, stereo", type: 0, quality: 1, channels: 2, rate: 10000, maps: [[0, 1]] },
      {
        tier: "sq song, stereo",
        type: 0,
        quality: 2,
        channels: 2,
        rate: 44100,
        maps: [
          [0, 1],
          [0, 0],
        ],
      },
    ] as const)(
      "$tier ($rate Hz): every sample equals the oracle's",
      async ({ type, quality, channels, rate, maps }) => {
        const pcm = await download(type, quality, channels, rate, 4);
        // Real audio, not silence: a song's accompaniment well above the noise floor.
        let peak = 0;
        for (const v of pcm) peak = Math.max(peak, Math.abs(v));
        expect(peak).toBeGreaterThan(2000);
        for (const map of maps) {
          const channelMap = map as [number, number];
          const oracle = resampleAll(new OracleResampler(rate, channels, { channelMap }), pcm);
          const simd = resampleChunked(
            new Resampler(rate, channels, { channelMap, maxChunkFrames: 4096 }),
            pcm,
            [4096],
            [4800],
          );
          expect(firstDifference(simd, oracle)).toBeNull();
          expect(simd.length).toBe(Math.ceil(((pcm.length / channels) * OUT) / rate) * 2);
        }
      },
    );
  });
});
