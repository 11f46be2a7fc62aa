import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ACC_MAX,
  ACC_MIN,
  accumulate,
  mix1,
  mix2,
  mix3,
  mix4,
  saturate,
  UNITY_GAIN,
  volumeToGain,
} from "./kernel.ts";

// The specification in BigInt, independent of the kernels' double arithmetic: round half up, then saturate.
function reference(samples: number[], gains: number[]): number {
  let acc = 0n;
  for (let i = 0; i < samples.length; i++) acc += BigInt(samples[i]!) * BigInt(gains[i]!);
  const shifted = acc + 16384n;
  // BigInt division truncates toward zero; the spec floors.
  let q = shifted / 32768n;
  if (shifted < 0n && q * 32768n !== shifted) q -= 1n;
  const y = Number(q);
  return Math.max(-32768, Math.min(32767, y));
}

const XS = [1000, -1000, 3, -3, 12345, -12345, 32767, -32768];

function runMix1(xs: number[], gain: number): number[] {
  const out = new Int16Array(xs.length);
  mix1(out, xs.length, Int16Array.from(xs), gain);
  return [...out];
}

describe("volumeToGain", () => {
  it("maps the SDK's 0..200 onto Q15, rounding to nearest", () => {
    expect(volumeToGain(0)).toBe(0);
    expect(volumeToGain(100)).toBe(UNITY_GAIN);
    expect(volumeToGain(200)).toBe(65536);
    expect(volumeToGain(50)).toBe(16384);
    expect(volumeToGain(1)).toBe(328); // 327.68
    expect(volumeToGain(33)).toBe(10813); // 10813.44
    expect(volumeToGain(199)).toBe(65208); // 65208.32
  });

  it("rejects volumes outside the SDK's range", () => {
    for (const v of [-1, 201, 1.5, Number.NaN]) expect(() => volumeToGain(v)).toThrow(RangeError);
  });
});

describe("single-input gain", () => {
  it("is exact at 0, unity and odd gains", () => {
    expect(runMix1(XS, 0)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(runMix1(XS, UNITY_GAIN)).toEqual(XS);
    expect(runMix1(XS, volumeToGain(1))).toEqual([10, -10, 0, 0, 124, -124, 328, -328]);
    expect(runMix1(XS, volumeToGain(33))).toEqual([330, -330, 1, -1, 4074, -4074, 10813, -10813]);
  });

  it("rounds exact halves up (toward +∞) at 150%", () => {
    // 3·1.5 = 4.5 → 5, −3·1.5 = −4.5 → −4, 12345·1.5 = 18517.5 → 18518, −18517.5 → −18517.
    expect(runMix1(XS, volumeToGain(150))).toEqual([1500, -1500, 5, -4, 18518, -18517, 32767, -32768]);
  });

  it("doubles at 200% and saturates at both rails", () => {
    expect(runMix1(XS, volumeToGain(200))).toEqual([2000, -2000, 6, -6, 24690, -24690, 32767, -32768]);
    expect(runMix1([16383, 16384, -16384, -16385, 20000, -20000], 65536)).toEqual([
      32766, 32767, -32768, -32768, 32767, -32768,
    ]);
  });
});

describe("multi-input kernels", () => {
  it("saturate sums at both rails instead of wrapping", () => {
    const a = Int16Array.from([30000, -30000, 30000, 32767, -32768]);
    const b = Int16Array.from([30000, -30000, -30000, 1, -1]);
    const out = new Int16Array(5);
    mix2(out, 5, a, UNITY_GAIN, b, UNITY_GAIN);
    expect([...out]).toEqual([32767, -32768, 0, 32767, -32768]);
  });

  it("the accumulator bounds round to exactly the rails", () => {
    const acc = Float64Array.from([ACC_MAX, ACC_MIN, ACC_MAX + 1, ACC_MIN - 1, 1e15, -1e15]);
    const out = new Int16Array(6);
    saturate(out, 6, acc);
    expect([...out]).toEqual([32767, -32768, 32767, -32768, 32767, -32768]);
  });

  it("every kernel and the accumulate path match the BigInt specification", () => {
    const sample = fc.integer({ min: -32768, max: 32767 });
    const gain = fc.integer({ min: 0, max: 65536 });
    const lane = fc.tuple(fc.array(sample, { minLength: 16, maxLength: 16 }), gain);
    fc.assert(
      fc.property(fc.array(lane, { minLength: 1, maxLength: 6 }), (lanes) => {
        const n = 16;
        const bufs = lanes.map(([xs]) => Int16Array.from(xs));
        const gains = lanes.map(([, g]) => g);
        const expected = Array.from({ length: n }, (_, i) =>
          reference(
            bufs.map((b) => b[i]!),
            gains,
          ),
        );
        const acc = new Float64Array(n);
        bufs.forEach((b, k) => {
          accumulate(acc, n, b, gains[k]!, k === 0);
        });
        const viaAcc = new Int16Array(n);
        saturate(viaAcc, n, acc);
        expect([...viaAcc]).toEqual(expected);
        const fused = new Int16Array(n);
        const [a, b, c, d] = bufs;
        const [ga, gb, gc, gd] = gains;
        if (bufs.length === 1) mix1(fused, n, a!, ga!);
        else if (bufs.length === 2) mix2(fused, n, a!, ga!, b!, gb!);
        else if (bufs.length === 3) mix3(fused, n, a!, ga!, b!, gb!, c!, gc!);
        else if (bufs.length === 4) mix4(fused, n, a!, ga!, b!, gb!, c!, gc!, d!, gd!);
        else return;
        expect([...fused]).toEqual(expected);
      }),
      { numRuns: 300, seed: 5 },
    );
  });
});
