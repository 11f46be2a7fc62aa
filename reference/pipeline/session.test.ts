import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Simulator } from "../../simulator/app.ts";
import { metricSum, testSimulator } from "../../test/sim.ts";
import { createThreadAudio } from "../audio/index.ts";
import { PipelineSession, runPipeline } from "./run.ts";
import { billedTo, userConfig } from "./test-fixtures.ts";

// A login kept across songs (PipelineSession), against a real simulator: the server sees one room login and one
// init for several songs, every song still bills exactly what it reports, and a failed song or another room
// logs in again.

let sim: Simulator;

beforeAll(async () => {
  sim = await testSimulator();
});
afterAll(async () => {
  await sim.close();
});

const metric = (pattern: RegExp) => metricSum(sim.url, pattern);
const logins = () => metric(/^ktv_media_logins_total\{code="0"\}/);
const inits = () => metric(/^ktv_requests_total\{route="\/v1\/music\/init",.*code="0"\}/);
const sockets = () => metric(/^ktv_media_connections /);

describe("PipelineSession: a login kept across songs", () => {
  it("sings three songs on one login and one init; each song bills and reports only itself", async () => {
    const session = new PipelineSession();
    const [l0, i0] = [await logins(), await inits()];
    const audio = createThreadAudio();
    const runs = [];
    for (const song of [{ query: "love" }, { topID: "8888" }, { query: "love" }]) {
      runs.push(
        await runPipeline(
          userConfig(sim.url, "keeper", { song, session, memoryCache: true, sharedAudio: audio }),
        ),
      );
    }
    expect(runs.map((r) => r.failure)).toEqual([null, null, null]);
    expect(await logins()).toBe(l0 + 1);
    expect(await inits()).toBe(i0 + 1);
    expect([session.logins, session.reused, session.songsOnLogin]).toEqual([1, 2, 3]);
    // The session start is the first song's only; every song has its own pick, request and first audio.
    expect(runs[0]!.stages.login_ms).toBeGreaterThan(0);
    expect(runs[0]!.stages.init_ms).toBeGreaterThan(0);
    for (const r of runs.slice(1)) {
      expect(r.stages.login_ms).toBeNull();
      expect(r.stages.init_ms).toBeNull();
    }
    for (const r of runs) {
      expect(r.stages.ttfa_ms).toBeGreaterThan(0);
      expect(r.billable_requests).toBe(1);
      // The publish clock is the song's own, not the login's total.
      expect(r.publish).toMatchObject({ frames_mixed: 100, packets_sent: 50, reconnects: 0 });
      expect(r.mix).toMatchObject({ frames: 100 });
    }
    // Exact billing: the ledger has one row per billable request the songs reported, in the same room.
    const rows = await billedTo(sim.url, "keeper");
    expect(rows).toHaveLength(runs.reduce((n, r) => n + r.billable_requests, 0));
    expect(rows.map((r) => r.song_id).sort()).toEqual(runs.map((r) => r.song!.song_id).sort());
    // The first song downloaded its whole file; the third (the same song) was served again or revalidated.
    expect(runs[0]!.bytes_downloaded).toBeGreaterThan(0);
    const open = await sockets();
    await session.close();
    expect(session.holding).toBe(false);
    await expect.poll(sockets).toBe(open - 1);
  });

  it("a failed song closes its login: the next song logs in again; another room logs in too", async () => {
    const session = new PipelineSession();
    const l0 = await logins();
    const ok = await runPipeline(userConfig(sim.url, "fails", { session, memoryCache: true }));
    expect(ok.failure).toBeNull();
    expect(session.holding).toBe(true);
    const failed = await runPipeline(
      userConfig(sim.url, "fails", { session, memoryCache: true, song: { songID: "no-such-song" } }),
    );
    expect(failed.failure?.stage).toBe("search");
    expect(session.holding).toBe(false);
    const again = await runPipeline(userConfig(sim.url, "fails", { session, memoryCache: true }));
    expect(again.failure).toBeNull();
    expect(again.stages.login_ms).toBeGreaterThan(0);
    const moved = await runPipeline(
      userConfig(sim.url, "fails", { session, memoryCache: true, roomID: "room2" }),
    );
    expect(moved.failure).toBeNull();
    expect(moved.stages.login_ms).toBeGreaterThan(0);
    // Logins: the first, the one after the failure, the one in room2 (the failed song used the kept one).
    expect(await logins()).toBe(l0 + 3);
    await session.close();
  });

  it("an aborted song is not kept", async () => {
    const session = new PipelineSession();
    const ac = new AbortController();
    const p = runPipeline(
      userConfig(sim.url, "aborts", { session, memoryCache: true, seconds: 5 }),
      ac.signal,
    );
    setTimeout(() => ac.abort(), 300);
    const r = await p;
    expect(r.aborted).toBe(true);
    expect(session.holding).toBe(false);
  });
});
