import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { session } from "../../test/sim.ts";
import {
  download,
  type FaultRig,
  faultEvents,
  faultRig,
  findSong,
  putFaults,
  requestRes,
} from "./test-fixtures.ts";

// Determinism over real HTTP for the phase-2 kinds: two simulators with the same seed and profile, the same
// users making the same requests, once one user after another and once all users at once in reverse order,
// take the same decisions (TTL overrides, expiry on use, cdn plans, revocations): their event logs match.

const PROFILE = [
  { id: "ttl", kind: "expiry", ttl_ms: 120_000, probability: 0.5, selector: { resource_type: 1 } },
  { id: "use", kind: "expiry", expire_on_use: true, probability: 0.3, selector: { resource_type: 0 } },
  { id: "ttfb", kind: "cdn", first_byte: { type: "uniform", min: 0, max: 4 }, probability: 0.5 },
  { id: "cap", kind: "cdn", bandwidth: { bytes_per_sec: 20_000_000 }, probability: 0.3 },
  { id: "wave", kind: "revocation", selector: { song_fraction: 0.25 } },
  {
    id: "slow",
    kind: "latency",
    distribution: { type: "uniform", min: 0, max: 3 },
    probability: 0.3,
    selector: { route: "POST /v1/music/resource" },
  },
];
const USERS = 6;
const STEPS = 6;

let rigs: FaultRig[] = [];
beforeAll(async () => {
  rigs = await Promise.all([faultRig({ seed: 11 }), faultRig({ seed: 11 }), faultRig({ seed: 12 })]);
});
afterAll(() => Promise.all(rigs.map((r) => r.close())));

/** One user's session: request, then HEAD and a small GET of what was issued; answers are recorded too. */
async function user(rig: FaultRig, u: number, songIds: string[]): Promise<string[]> {
  const who = await session(rig.sim.url, `u${u}`);
  const seen: string[] = [];
  for (let k = 0; k < STEPS; k++) {
    const r = await requestRes(rig.sim, who, songIds[(u * 5 + k * 7) % songIds.length]!, k % 3);
    // Exact ms: a fresh resource's resource_ttl is its issued TTL, whatever the wall clock did meanwhile.
    seen.push(`req ${r.code} ${r.ttl}`);
    if (r.code !== 0) continue;
    seen.push(`head ${(await download(rig.sim, r.id, who, { method: "HEAD" })).status}`);
    seen.push(`get ${(await download(rig.sim, r.id, { ...who, range: "bytes=0-999" })).status}`);
  }
  return seen;
}

async function run(rig: FaultRig, concurrent: boolean) {
  const songIds = Array.from({ length: 16 }, (_, i) => findSong(rig.sim, () => true, i).item.song_id);
  await putFaults(rig, PROFILE);
  const answers: string[][] = [];
  if (concurrent) {
    const all = Array.from({ length: USERS }, (_, i) => USERS - 1 - i).map(async (u) => {
      answers[u] = await user(rig, u, songIds);
    });
    await Promise.all(all);
  } else {
    for (let u = 0; u < USERS; u++) answers[u] = await user(rig, u, songIds);
  }
  const events = (await faultEvents(rig))
    .map((e) => [e.kind, e.fault_id, e.request_key, e.route, JSON.stringify(e.effect)].join("\t"))
    .sort();
  return { events, answers };
}

describe("phase-2 fault decisions replay whatever the interleaving", () => {
  it("gives the same events and answers to the same requests in two different concurrent orders", async () => {
    const [a, b, c] = rigs as [FaultRig, FaultRig, FaultRig];
    const sequential = await run(a, false);
    const concurrent = await run(b, true);
    const kinds = new Set(sequential.events.map((e) => e.split("\t")[0]));
    expect([...kinds].sort()).toEqual(["cdn", "expiry", "latency", "revocation"]);
    expect(sequential.events.length).toBeGreaterThan(30);
    expect(concurrent.events).toEqual(sequential.events);
    expect(concurrent.answers).toEqual(sequential.answers);
    // Some requests were refused by the revocation and some downloads found their resource expired.
    const flat = sequential.answers.flat();
    expect(flat).toContain("req 1017030 -1");
    expect(flat).toContain("req 0 120000");
    expect(flat).toContain("head 410");
    // Another seed, other decisions.
    expect((await run(c, false)).events).not.toEqual(sequential.events);
  });
});
