import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_APP_ID, DEV_APP_SIGN } from "../../reference/engine/test-fixtures.ts";
import { runPipeline } from "../../reference/pipeline/run.ts";
import type { Simulator } from "../../simulator/app.ts";
import { metricSum, testSimulator } from "../../test/sim.ts";
import { MetricSet } from "../metrics/set.ts";
import { recorderOf } from "../test-helpers.ts";
import { createPipelineVu } from "./pipeline.ts";
import type { IterationSpec, VuContext } from "./types.ts";

// The pipeline VU's songsPerLogin (scenario ktv.songsPerLogin) against a real simulator: N songs per room
// login, counted by the server; the billing counters stay exact.

let sim: Simulator;
beforeAll(async () => {
  sim = await testSimulator();
});
afterAll(async () => {
  await sim.close();
});

const metric = (pattern: RegExp) => metricSum(sim.url, pattern);
const logins = () => metric(/^ktv_media_logins_total\{code="0"\}/);
const sockets = () => metric(/^ktv_media_connections /);

function spec(iteration: number, songsPerLogin?: number): IterationSpec {
  return {
    scenario: "s",
    vu: 1,
    iteration,
    userID: "vu-keeper",
    roomID: "vu-room",
    seat: { room: 0, slot: 0, role: "singer" },
    listenTo: null,
    masterID: "vu-keeper",
    song: { topID: "8888" },
    resource: { type: 2, quality: 0, vendorId: 0, billingMode: 0 },
    preferShared: false,
    seconds: 0.2,
    codec: "pcm",
    seed: 1 + iteration,
    cacheDir: undefined,
    audio: { memoryCache: true, shared: true, voiceProfiles: 2 },
    ...(songsPerLogin !== undefined ? { songsPerLogin } : {}),
  };
}

function vuContext(set: MetricSet): VuContext {
  return {
    target: sim.url,
    appID: DEV_APP_ID,
    appSign: DEV_APP_SIGN,
    client: runPipeline,
    rec: recorderOf(set),
  };
}

describe("pipeline VU: songsPerLogin", () => {
  it("5 songs at 2 per login: 3 logins; every song billed once; close logs out", async () => {
    const set = new MetricSet();
    const vu = createPipelineVu(vuContext(set));
    const l0 = await logins();
    const s0 = await sockets();
    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push(await vu.iteration(spec(i, 2), new AbortController().signal));
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true, true, true]);
    expect(await logins()).toBe(l0 + 3);
    expect(set.counter("billable_requests")).toBe(5);
    expect(set.counter("songs_started")).toBe(5);
    // login_ms once per login.
    expect(set.trends.get("login_ms")?.totalCount).toBe(3);
    // The fifth song's login is still held until the VU closes.
    expect(await sockets()).toBe(s0 + 1);
    await vu.close();
    await expect.poll(sockets).toBe(s0);
  });

  it("without songsPerLogin: one login per song, as before", async () => {
    const set = new MetricSet();
    const vu = createPipelineVu(vuContext(set));
    const l0 = await logins();
    for (let i = 0; i < 2; i++) await vu.iteration(spec(i), new AbortController().signal);
    expect(await logins()).toBe(l0 + 2);
    expect(set.trends.get("login_ms")?.totalCount).toBe(2);
    await vu.close();
  });
});
