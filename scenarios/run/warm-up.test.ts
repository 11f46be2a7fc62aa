import { describe, expect, it } from "vitest";
import { TIER_FORMAT } from "../../protocol/audio-tiers.ts";
import { PreencodedOpus } from "../../reference/codec/packet-codec.ts";
import { Resampler } from "../../reference/mixer/resampler.ts";
import { simdKernel } from "../../reference/mixer/simd-kernel.ts";
import { warmUpThread } from "./warm-up.ts";

// A worker builds its boot-time tables before "ready" (worker.ts), so the run's first seconds do not.

const NO_SHARED = { shared: false, voiceProfiles: 0 };

describe("worker warm-up", () => {
  it("builds the thread's pre-encoded Opus packets for an opus-preencoded scenario only", () => {
    expect(warmUpThread({ media: { codec: "pcm", transport: "unix" }, audio: NO_SHARED })).toMatchObject({
      preencodedOpus: false,
    });
    expect(PreencodedOpus.built).toBe(false);
    expect(
      warmUpThread({ media: { codec: "opus-preencoded", transport: "unix" }, audio: NO_SHARED }),
    ).toMatchObject({
      preencodedOpus: true,
    });
    expect(PreencodedOpus.built).toBe(true);
    // The engines of the run take the same table: nothing is built again on the audio path.
    const table = PreencodedOpus.shared();
    warmUpThread({ media: { codec: "opus-preencoded", transport: "unix" }, audio: NO_SHARED });
    expect(PreencodedOpus.shared()).toBe(table);
    expect(table.packets.length).toBe(250);
  });

  it.each([
    ["with", { shared: true, voiceProfiles: 8 }],
    ["without", NO_SHARED],
  ])(
    "%s shared audio, makes the resampler ready for every CDN tier and compiles the mixing kernel",
    (_, audio) => {
      const w = warmUpThread({ media: { codec: "pcm", transport: "unix" }, audio });
      expect(w.resampler).toBe("simd");
      expect(w.mixKernel).toBe(true);
      // The engines' mixers take the thread's kernel: compiled once, here.
      expect(simdKernel()).not.toBeNull();
      // The run's resamplers then take the designed tables: the same table object, not a new design.
      const table = (rs: Resampler) => (rs as unknown as { coeffs: Int32Array }).coeffs;
      for (const tier of Object.values(TIER_FORMAT)) {
        expect(table(new Resampler(tier.sampleRate, 2))).toBe(table(new Resampler(tier.sampleRate, 1)));
      }
    },
  );
});
