import { describe, expect, it } from "vitest";
import { ArrayReader, mixerSource, ResampledSource } from "./index.ts";

// The package's entry point hands an app the mixer input the pipeline itself uses: a 48 kHz stereo reader is read
// in place (no resampler: it was ~195 ms of a ~300 ms mix), any other rate goes through the resampler.

describe("reference/index.ts", () => {
  it("exports mixerSource: 48 kHz stereo passes through, 44.1 kHz is resampled, same 10 ms frame either way", () => {
    const pcm = new Int16Array(4800 * 2).map((_, i) => (i * 37) % 2000);
    const direct = mixerSource(new ArrayReader(pcm, 48_000, 2));
    const resampled = mixerSource(new ArrayReader(pcm, 44_100, 2));
    expect(direct).not.toBeInstanceOf(ResampledSource);
    expect(resampled).toBeInstanceOf(ResampledSource);
    const out = new Int16Array(960);
    expect(direct.read(out)).toBe(480);
    expect(Array.from(out.subarray(0, 8))).toEqual(Array.from(pcm.subarray(0, 8)));
  });
});
