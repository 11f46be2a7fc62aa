import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedAgent } from "../../reference/music/http.ts";
import type { Simulator } from "../../simulator/app.ts";
import { DEV_APP } from "../../simulator/options.ts";
import { testSimulator } from "../../test/sim.ts";
import { createMusicVu } from "./music.ts";
import type { IterationSpec, Recorder, VuContext } from "./types.ts";

// The music VU's footprint (issue 13: 10,000 per machine at <= 100 KB each): it holds nothing between
// iterations, and its requests go through the thread's bounded undici Agent (a WHATWG fetch per VU had a
// socket and web streams each in flight), with the CDN bytes still counted.

let sim: Simulator;
beforeAll(async () => {
  sim = await testSimulator();
});
afterAll(async () => {
  await sim?.close();
});

function recorder(): Recorder & { counters: Map<string, number>; errors: (number | string)[] } {
  const counters = new Map<string, number>();
  const errors: (number | string)[] = [];
  return {
    counters,
    errors,
    record: () => {},
    add: (c, n = 1) => counters.set(c, (counters.get(c) ?? 0) + n),
    error: (code) => errors.push(code),
    rate: () => {},
    note: () => {},
  };
}

function spec(vu: number): IterationSpec {
  return {
    scenario: "s",
    vu,
    iteration: 0,
    userID: `music-test-${vu}`,
    roomID: `music-test-room-${vu}`,
    seat: { room: vu, slot: 0, role: "singer" },
    listenTo: null,
    masterID: `music-test-${vu}`,
    song: { topID: "8888" },
    resource: { type: 2, quality: 0, vendorId: 0, billingMode: 0 },
    preferShared: false,
    seconds: 1,
    codec: "pcm",
    seed: vu,
    cacheDir: undefined,
  } as IterationSpec;
}

describe("music VU", () => {
  it("downloads through the thread's bounded Agent, counts the CDN bytes, and holds no state of its own", async () => {
    const rec = recorder();
    const ctx: VuContext = {
      target: sim.url,
      appID: DEV_APP.app_id,
      appSign: DEV_APP.app_sign,
      rec,
      client: () => Promise.reject(new Error("the music VU runs no pipeline")),
    };
    const a = createMusicVu(ctx);
    const b = createMusicVu(ctx);
    // Nothing but its two functions: no per-VU client, agent or buffers kept between iterations.
    expect(Object.keys(a).sort()).toEqual(["close", "iteration"]);
    const signal = new AbortController().signal;
    const [ra, rb] = await Promise.all([a.iteration(spec(1), signal), b.iteration(spec(2), signal)]);
    expect([ra.ok, rb.ok], JSON.stringify(rec.errors)).toEqual([true, true]);
    expect(rec.counters.get("songs_started")).toBe(2);
    expect(rec.counters.get("bytes_downloaded")).toBeGreaterThan(0);
    // Every request of both VUs (vendor calls, room login, download) went over the thread's one Agent.
    const origin = new URL(sim.url).origin;
    const stats = (sharedAgent() as unknown as { stats: Record<string, { connected: number }> }).stats;
    expect(stats[origin]?.connected).toBeGreaterThanOrEqual(1);
    await Promise.all([a.close(), b.close()]);
  }, 30_000);
});
