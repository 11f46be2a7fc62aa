import { defineScenario } from "./format.ts";

// An expiry storm (simulator/faults/examples/expiry-storm.json, compressed to two minutes): resources are
// issued with 20 s of validity, at 40 s half of those issued so far expire at once (downloads in flight are
// cut), and from 60 s one accompaniment download in ten finds its resource expired. A careful client requests
// again once and carries on; the thresholds say users must not notice, and that the storm really happened.

export default defineScenario({
  name: "expiry-storm",
  description:
    "resources expire early, in a storm at 40 s and on use from 60 s; the client must re-request once",
  options: {
    scenarios: {
      rooms: { executor: "constant-vus", vus: 8, duration: "2m", gracefulStop: "20s" },
    },
    thresholds: {
      "errors{code:1017019}": ["rate<0.01"],
      errors: ["rate<0.05"],
      "recoveries{rule:expired-rerequest}": ["count>0"],
      ttfa_ms: ["p(95)<4000"],
    },
  },
  ktv: {
    vu: "pipeline",
    population: { usersPerRoom: 2 },
    resource: { type: 1 },
    singSeconds: 5,
    faults: {
      profile: {
        description: "expiry-storm.json compressed to 2 minutes",
        faults: [
          { id: "short-ttl", kind: "expiry", ttl_ms: 20_000, until: 120_000 },
          {
            id: "storm",
            kind: "expiry",
            expire_existing: true,
            probability: 0.5,
            from: 40_000,
            until: 60_000,
          },
          {
            id: "dead-on-download",
            kind: "expiry",
            expire_on_use: true,
            probability: 0.1,
            selector: { resource_type: 1 },
            from: 60_000,
            until: 120_000,
          },
        ],
      },
    },
    // The run fails (exit 99, run/fault-check.ts) unless all three faults fired, the client re-requested at
    // least once, and no user saw 1017019 more often than the client re-requested.
    expect: {
      faultsFired: ["short-ttl", "storm", "dead-on-download"],
      recoveries: { "expired-rerequest": { atLeast: 1, hides: [1017019] } },
    },
  },
});
