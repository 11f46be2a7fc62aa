import { PreencodedOpus } from "../../reference/codec/packet-codec.ts";
import type { ResolvedScenario } from "../resolve.ts";

// Boot work a worker does before it says "ready", so it is not done inside the run: the run's clock (t0) starts
// after every worker is ready, and a stall after it is the generator's, counted by the saturation rules.
//
// The thread's pre-encoded Opus packets (codec "opus-preencoded": 5 s of a reference signal rendered and
// encoded once) were built by the first singer's engine, after t0: CPU profiles of rooms-250's first seconds
// put renderReferenceSignal at 0.55 s and the encodes at 0.7 s of one worker (load ~9), one stall of every VU
// of that thread (clock lag stall 1.3-1.8 s at 0-2 s, generator_saturated from 0 s in every run).

/** What warmUpThread built, for the caller's log and tests. */
export interface WarmUp {
  preencodedOpus: boolean;
}

export function warmUpThread(scenario: Pick<ResolvedScenario, "media">): WarmUp {
  const opus = scenario.media.codec === "opus-preencoded";
  if (opus) PreencodedOpus.shared();
  return { preencodedOpus: opus };
}
