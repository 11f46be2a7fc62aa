import { defineScenario } from "./format.ts";

// Capacity: rooms of one singer and three listeners are added one by one until the first sliding-window
// threshold breaks (abortOnFail); the run stops there and summary.json's capacity.knee says at how many VUs
// and rooms. The capacity model extrapolates the per-room figures to the populations listed.

export default defineScenario({
  name: "capacity",
  description:
    "ramps rooms of 4 users (1 singer, 3 listeners) from 1 to 40 until a threshold breaks: the knee",
  options: {
    scenarios: {
      ramp: {
        executor: "ramping-vus",
        startVUs: 4,
        stages: [
          { duration: "4m", target: 160 },
          { duration: "1m", target: 160 },
        ],
        gracefulRampDown: "10s",
        gracefulStop: "15s",
      },
    },
    thresholds: {
      mix_lateness_ms: [{ threshold: "p(99)<20 over 15s", abortOnFail: true, delayAbortEval: "20s" }],
      ttfa_ms: [{ threshold: "p(95)<2500 over 15s", abortOnFail: true, delayAbortEval: "20s" }],
      e2e_latency_ms: [{ threshold: "p(95)<250 over 15s", abortOnFail: true, delayAbortEval: "20s" }],
      errors: [{ threshold: "rate<0.05 over 15s", abortOnFail: true, delayAbortEval: "20s" }],
    },
  },
  ktv: {
    vu: "pipeline",
    population: { usersPerRoom: 4, singersPerRoom: 1 },
    songs: { charts: ["8888", "6666"], zipf: 1, poolSize: 100, searchMix: 0.2 },
    shareRatio: 0.8,
    resource: { type: 2 },
    singSeconds: 10,
    extrapolateRooms: [100, 1000, 5000],
  },
});
