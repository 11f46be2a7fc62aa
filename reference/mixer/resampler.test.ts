import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_TAPS, Resampler } from "./resampler.ts";

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

/** Feeds everything at once, ends, drains: the reference run chunked runs must equal. */
function resampleAll(rs: Resampler, input: Int16Array): Int16Array {
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
