import { defineScenario } from "./format.ts";
import { CONFORMANCE_CASES } from "./vu/conformance-cases.ts";

// Conformance: each recovery rule of the careful client provoked once (scenarios/vu/conformance-cases.ts) and
// judged against the client's own report and the vendor's ledger; one threshold per rule, so the run's
// thresholds[] is the pass/fail list and the exit code is 99 when any rule fails. A partner runs it against
// their own client with `ktv run conformance --client ./my-client.ts` (the reference pipeline's contract).

export default defineScenario({
  name: "conformance",
  description: "every recovery rule exercised once against the client under test: pass/fail per rule",
  options: {
    scenarios: {
      cases: {
        executor: "shared-iterations",
        vus: 1,
        iterations: CONFORMANCE_CASES.length,
        maxDuration: "3m",
        gracefulStop: "30s",
      },
    },
    thresholds: Object.fromEntries(
      CONFORMANCE_CASES.map((c) => [`conformance{rule:${c.rule}}`, ["rate==1"]]),
    ),
  },
  ktv: {
    vu: "conformance",
    population: { rooms: 1, usersPerRoom: 1 },
    resource: { type: 2 },
    singSeconds: 0.5,
    simulator: { catalogSize: 2000 },
  },
});
