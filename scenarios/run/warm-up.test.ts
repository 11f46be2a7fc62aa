import { describe, expect, it } from "vitest";
import { TIER_FORMAT } from "../../protocol/audio-tiers.ts";
import { PreencodedOpus } from "../../reference/codec/packet-codec.ts";
import { Resampler } from "../../reference/mixer/resampler.ts";
import { warmUpThread } from "./warm-up.ts";

// A worker builds its boot-time tables before "ready" (worker.ts), so the run's first seconds do not.

const NO_SHARED = { shared: false, voiceProfiles: 0 };

describe("worker warm-up", () => {
  it("builds the thread's pre-encoded Opus packets for an opus-preencoded scenario only", () => {
    expect(warmUpThread({ media: { codec: "pcm", transport: "unix" }, audio: NO_SHARED })).toEqual({
      preencodedOpus: false,
      resampler: null,
    });
    expect(PreencodedOpus.built).toBe(false);
    expect(
      warmUpThread({ media: { codec: "opus-preencoded", transport: "unix" }, audio: NO_SHARED }),
    ).toEqual({
      preencodedOpus: true,
      resampler: null,
    });
    expect(PreencodedOpus.built).toBe(true);
    // The engines of the run take the same table: nothing is built again on the audio path.
    const table = PreencodedOpus.shared();
    warmUpThread({ media: { codec: "opus-preencoded", transport: "unix" }, audio: NO_SHARED });
    expect(PreencodedOpus.shared()).toBe(table);
    expect(table.packets.length).toBe(250);
  });

  it("with shared audio, makes the resampler ready for every CDN tier (tables designed, SIMD kernel compiled)", () => {
    const w = warmUpThread({
      media: { codec: "pcm", transport: "unix" },
      audio: { shared: true, voiceProfiles: 8 },
    });
    expect(w.resampler).toBe("simd");
    // The run's resamplers then take the designed tables: the same table object, not a new design.
    const table = (rs: Resampler) => (rs as unknown as { coeffs: Int32Array }).coeffs;
    for (const tier of Object.values(TIER_FORMAT)) {
      expect(table(new Resampler(tier.sampleRate, 2))).toBe(table(new Resampler(tier.sampleRate, 1)));
    }
  });
});
