import { defineScenario } from "./format.ts";

// A fixed load for CI baselines: the same arrivals every run (open model, so a slower build cannot lower its
// own load), no faults, a fixed seed by default. Compare two runs with `ktv compare <baseline> <run>`; the
// thresholds here are only a sanity floor, the comparison is what gates.

export default defineScenario({
  name: "regression",
  description: "2 users/s for 60 s, rooms of a singer and a listener, no faults: a baseline for ktv compare",
  options: {
    scenarios: {
      steady: {
        executor: "constant-arrival-rate",
        rate: 2,
        timeUnit: "1s",
        duration: "60s",
        preAllocatedVUs: 8,
        maxVUs: 16,
        gracefulStop: "20s",
      },
    },
    thresholds: {
      errors: ["rate<0.01"],
      dropped_iterations: ["count==0"],
      "ttfa_ms{corrected:true}": ["p(95)<3000"],
      mix_lateness_ms: ["p(95)<40"],
    },
  },
  ktv: {
    vu: "pipeline",
    population: { rooms: 4, usersPerRoom: 2 },
    resource: { type: 2 },
    singSeconds: 3,
    simulator: { catalogSize: 10_000 },
  },
});
