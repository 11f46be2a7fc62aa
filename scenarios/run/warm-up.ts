import { TIER_FORMAT } from "../../protocol/audio-tiers.ts";
import { PreencodedOpus } from "../../reference/codec/packet-codec.ts";
import { Resampler } from "../../reference/mixer/resampler.ts";
import { simdKernel } from "../../reference/mixer/simd-kernel.ts";
import type { ResolvedScenario } from "../resolve.ts";

// Boot work a worker does before it says "ready", so it is not done inside the run: the run's clock (t0) starts
// after every worker is ready, and a stall after it is the generator's, counted by the saturation rules.
//
// The thread's pre-encoded Opus packets (codec "opus-preencoded": 5 s of a reference signal rendered and
// encoded once) were built by the first singer's engine, after t0: CPU profiles of rooms-250's first seconds
// put renderReferenceSignal at 0.55 s and the encodes at 0.7 s of one worker (load ~9), one stall of every VU
// of that thread (clock lag stall 1.3-1.8 s at 0-2 s, generator_saturated from 0 s in every run).

//
// With shared audio, the first song a worker renders also designed its resampler's polyphase table and compiled
// the SIMD kernel (reference/mixer/fir-simd.ts): 5-12 ms for the first 8 kHz resampler of a thread, 10-55 ms for
// a 44.1 kHz one (measured, loaded machine), inside a VU's song load after t0. Every CDN tier's table is made
// here instead; the resamplers of the run find them designed (tables are shared, per shape, per thread).
// Without shared audio each VU's player resamples its own song with the same tables (resampled-source.ts), and
// its engine's mixer compiles the thread's SIMD mixing kernel on first use: a CPU profile of `ktv run smoke`'s
// first songs put ~45 ms of one worker in the mixer kernel's compile and ~28 ms in the first ResampledSource,
// on the first singers' time to first audio. Both are made here for every scenario.

/** What warmUpThread built, for the caller's log and tests. */
export interface WarmUp {
  preencodedOpus: boolean;
  /** The resampler's kernel for the CDN tiers, made ready. */
  resampler: "simd" | "js";
  /** Whether the thread's SIMD mixing kernel is compiled (false where WebAssembly SIMD is missing). */
  mixKernel: boolean;
}

export function warmUpThread(scenario: Pick<ResolvedScenario, "media" | "audio">): WarmUp {
  const opus = scenario.media.codec === "opus-preencoded";
  if (opus) PreencodedOpus.shared();
  let resampler: WarmUp["resampler"] = "js";
  for (const tier of Object.values(TIER_FORMAT)) resampler = new Resampler(tier.sampleRate, 1).kernel;
  return { preencodedOpus: opus, resampler, mixKernel: simdKernel() !== null };
}
