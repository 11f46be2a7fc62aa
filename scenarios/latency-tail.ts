import { defineScenario } from "./format.ts";

// A slow vendor with a long tail (simulator/faults/examples/latency-tail.json) under an open model: users
// arrive at a fixed rate whatever the vendor's speed, so slow answers pile up waiting users instead of slowing
// the arrivals (no coordinated omission). summary.json reports each latency raw and corrected (measured from
// the intended start); the thresholds hold the corrected values, which are what users feel.

export default defineScenario({
  name: "latency-tail",
  description: "lognormal content-center latency, a Pareto tail on requestResource, 1% of searches hang 12 s",
  options: {
    scenarios: {
      arrivals: {
        executor: "constant-arrival-rate",
        rate: 2,
        timeUnit: "1s",
        duration: "90s",
        preAllocatedVUs: 8,
        maxVUs: 24,
        gracefulStop: "30s",
      },
    },
    thresholds: {
      "ttfa_ms{corrected:true}": ["p(95)<6000", "p(99)<15000"],
      "iteration_duration_ms{corrected:true}": ["p(99)<40000"],
      dropped_iterations: ["count<10"],
      errors: ["rate<0.05"],
    },
  },
  ktv: {
    vu: "pipeline",
    population: { rooms: 6, usersPerRoom: 2 },
    // Half the picks search, so the hanging searches are met.
    songs: { searchMix: 0.5 },
    resource: { type: 2 },
    singSeconds: 3,
    maxStartDelay: "10s",
    faults: {
      profile: {
        faults: [
          {
            id: "content-lognormal",
            kind: "latency",
            distribution: { type: "lognormal", median: 80, sigma: 0.6, max: 2000 },
            selector: { route: "POST /v1/music/extended" },
          },
          {
            id: "resource-pareto-tail",
            kind: "latency",
            distribution: { type: "pareto", scale: 200, shape: 1.3, max: 15000 },
            probability: 0.05,
            selector: { route: "POST /v1/music/resource" },
          },
          {
            id: "search-hang",
            kind: "latency",
            distribution: { type: "fixed", ms: 12000 },
            probability: 0.01,
            selector: { command: "/search/song" },
          },
        ],
      },
    },
    // Its thresholds are upper bounds, which a vendor that is never slow passes: the run fails (exit 99,
    // run/fault-check.ts) unless the lognormal and the Pareto tail really delayed requests. search-hang is
    // not required: at 1% of ~90 searches it misses a whole run about 40% of the time.
    expect: { faultsFired: ["content-lognormal", "resource-pareto-tail"] },
  },
});
