import { durationNeed } from "./duration-needs.ts";
import type { ScenarioDefinition } from "./format.ts";
import type { BUILT_IN } from "./library.ts";
import { planLoad } from "./load/plan.ts";
import { type Scaled, type ScaleOptions, scaleScenario } from "./scale.ts";

// The short form of each shipped scenario, as data: what CI runs (shipped-scenarios.run.test.ts) and what
// `ktv run <name> --time-scale T --load-scale L --seed S` reproduces by hand. A short form is the scenario
// compressed (scale.ts), never cut: every fault of it still happens, in order, and must still be seen to fire
// (run/fault-check.ts); and it is at least as long as duration-needs.ts says its timeline needs, so its users
// still meet the last change. The factors are the smallest that keep that true with a few VUs.
//
// The seed is part of the form. The fault engine decides each request under (seed, fault id, request key),
// and an open-model run gives every arrival a user of its own (`k<seed>-arrivals-a<i>`), so whether a rare
// fault hits an early request is fixed by the seed: under seed 3, latency-tail's 5% Pareto tail hits the very
// first singer's requestResource (a0), so the short run proves it fired without waiting for the odds.

export interface ShortForm extends ScaleOptions {
  seed: number;
  /** Why these factors, in one line. */
  why: string;
}

type BuiltIn = (typeof BUILT_IN)[number];

/** null: the scenario is short already and runs as shipped (its own test file runs it). */
export const SHORT_FORMS: Record<BuiltIn, ShortForm | null> = {
  smoke: null,
  conformance: null,
  "expiry-storm": {
    time: 0.25,
    seed: 1,
    why: "2 min -> 30 s, all 8 VUs: the storm at 10 s sweeps 5 s TTLs, and dead-on-download (10%) meets ~60 downloads from 15 s",
  },
  revocation: {
    time: 0.35,
    load: 0.5,
    seed: 1,
    why: "90 s -> 31.5 s: the lift at 24.5 s still leaves users the 5 s duration-needs.ts asks to meet it",
  },
  "latency-tail": {
    time: 0.1,
    seed: 3,
    why: "90 s -> 9 s at the same 2 arrivals/s; seed 3 puts the Pareto tail on the first singer's request",
  },
  capacity: {
    time: 0.04,
    load: 0.05,
    seed: 1,
    why: "5 min ramp -> 12 s, 160 -> 8 VUs: the ramp, its windowed abortOnFail thresholds and the knee search",
  },
  regression: { time: 0.2, load: 0.5, seed: 1, why: "60 s -> 12 s at 1 arrival/s" },
  "token-renewal": {
    time: 0.4,
    seed: 1,
    why: "75 s -> 30 s: its 40 s tokens (not scaled: the vendor warns 30 s ahead) still renew at 10 s and 20 s, stale logins re-mint at once",
  },
  // Its own test file runs it (vendor-mix.test.ts: a short form whose outage and lossy media still happen).
  "vendor-mix": null,
  // Its own test file runs it (backend.test.ts: a few seconds of arrivals against the embedded simulator).
  backend: null,
  "rooms-250": {
    time: 0.08,
    load: 0.008,
    seed: 1,
    why: "1,000 VUs -> 2 rooms of 4 for 12 s, same codec, shared audio and memory cache",
  },
};

/** `def` in its short form, or a reason it is not one (too short for its own timeline). */
export function shortForm(def: ScenarioDefinition, form: ShortForm): Scaled {
  const scaled = scaleScenario(def, form);
  const planned = planLoad(scaled.scenario.options).durationMs;
  const need = durationNeed(scaled.scenario).minimumMs ?? 0;
  if (planned < need) {
    throw new Error(
      `the short form of ${def.name} lasts ${planned} ms but its timeline needs ${need} ms (duration-needs.ts)`,
    );
  }
  return scaled;
}
