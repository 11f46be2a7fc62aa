import { defineScenario } from "./format.ts";

// A partner's backend against the vendor's server-side KTV REST API (`GET /?Action=`), open model: calls
// arrive at a fixed rate whatever the API's speed, each one action of the backend mix (scenarios/vu/backend.ts:
// rights checks, song info and lyrics most, tag lists least), signed with the app's ServerSecret and retried
// on 320000002 / 320050002 by the reference server client. summary.json's `server_api` block gives each
// action's calls, rate and latency. The rate stays well under the vendor's 200/s per action, so a 320000002
// here means the limiter miscounts; the thresholds say the API answered and never refused for the rate.

export default defineScenario({
  name: "backend",
  description: "a partner backend's mix of server REST API actions at 40 calls/s (open model)",
  options: {
    scenarios: {
      calls: {
        executor: "constant-arrival-rate",
        rate: 40,
        timeUnit: "1s",
        duration: "30s",
        preAllocatedVUs: 8,
        maxVUs: 32,
        gracefulStop: "10s",
      },
    },
    thresholds: {
      errors: ["rate<0.01"],
      "errors{code:320000002}": ["rate==0"],
      "errors{code:100000005}": ["rate==0"],
      "server_api_calls{action:QuerySongsCopyright}": ["count>0"],
      "server_api_ms{action:QuerySongsCopyright}": ["p(99)<2000"],
      dropped_iterations: ["count<10"],
    },
  },
  ktv: {
    vu: "backend",
    population: { usersPerRoom: 1, singersPerRoom: 1 },
    simulator: { catalogSize: 4000 },
  },
});
