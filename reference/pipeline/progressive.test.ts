import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Simulator } from "../../simulator/app.ts";
import { call, testSimulator } from "../../test/sim.ts";
import type { PipelineEvent } from "./events.ts";
import { runPipeline } from "./run.ts";
import { billedTo, putFaults, scratchDir, userConfig } from "./test-fixtures.ts";

// Playing while downloading, against a real simulator whose CDN stalls mid-body (a download-shaping fault):
// the song starts once the pre-roll is in, long before the download ends, and publishes exactly what the
// whole-file rule publishes; a revocation or an expiry that cuts the download while the song plays is handled
// by the careful app's rules (stop with the code; request again once and go on with the same bytes).

let sim: Simulator;
const tmp = scratchDir("ktv-progressive-test-");

beforeAll(async () => {
  sim = await testSimulator();
});
afterEach(async () => {
  await call(sim.url, "POST", "/admin/reset");
});
afterAll(async () => {
  await sim.close();
  tmp.remove();
});

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

/** The first download pauses after ~3 s of 8 kHz dual-track audio (100 KB) for `ms`. */
const stall = (ms: number) => ({
  id: "stall",
  kind: "cdn",
  first: 1,
  stall: { after_bytes: 100_000, duration: { type: "fixed", ms } },
});

describe("play while downloading", () => {
  it("starts after the pre-roll, before a stalled download ends, and publishes the whole-file run's samples", async () => {
    await putFaults(sim.url, [stall(3000)]);
    const progressive = join(tmp.dir, "progressive.wav");
    const r = await runPipeline(userConfig(sim.url, "prog", { outPath: progressive, seconds: 1 }));
    expect(r.ok, JSON.stringify(r.failure)).toBe(true);
    const p = r.phases!;
    // The order of events, not their speed: the stall holds the download's end back by 3 s.
    expect(p.first_byte!).toBeLessThanOrEqual(p.playable!);
    expect(p.playable!).toBeLessThanOrEqual(p.loaded!);
    expect(p.first_packet!).toBeLessThan(p.download_done!);
    expect(p.download_done!).toBeGreaterThanOrEqual(3000);
    expect(r.stages.pick_to_first_packet_ms).toBe(p.first_packet);
    expect(r.stages.pick_to_first_packet_ms!).toBeLessThan(r.stages.request_ms! + r.stages.download_ms!);
    expect(r.publish!.frames_mixed).toBe(100);

    await call(sim.url, "POST", "/admin/reset");
    const whole = join(tmp.dir, "whole.wav");
    const w = await runPipeline(
      userConfig(sim.url, "wholefile", { outPath: whole, seconds: 1, prerollMs: null }),
    );
    expect(w.ok, JSON.stringify(w.failure)).toBe(true);
    expect(w.phases!.playable).toBeNull();
    expect(w.phases!.first_packet!).toBeGreaterThan(w.phases!.download_done!);
    expect(r.song!.song_id).toBe(w.song!.song_id);
    // Each VU downloads (and verifies) its whole file either way.
    expect(r.bytes_downloaded).toBe(w.bytes_downloaded);
    expect(sha256(progressive)).toBe(sha256(whole));
  });

  it("a revocation that cuts the download while the song plays stops it: stage download, 1017030", async () => {
    await putFaults(sim.url, [stall(3000)]);
    let songID = "";
    let revoking: Promise<unknown> | null = null;
    const r = await runPipeline(
      userConfig(sim.url, "revokedplaying", {
        seconds: 8,
        onEvent: (e: PipelineEvent) => {
          if (e.type === "resource") songID = e.song_id;
          if (e.type === "publishing" && !revoking)
            revoking = call(sim.url, "POST", `/admin/songs/${songID}/revoke`);
        },
      }),
    );
    expect(await revoking).toMatchObject({ body: { code: 0 } });
    expect(r.ok).toBe(false);
    expect(r.failure).toMatchObject({ stage: "download", code: 1017030 });
    // It had started, and stopped long before the 8 s asked for.
    expect(r.publish!.packets_sent).toBeGreaterThan(0);
    expect(r.publish!.seconds).toBeLessThan(8);
    expect(r.errors["1017030"]).toBe(1);
    // The rule that acted, so a scenario can tell a stopped song from an error nobody handled.
    expect(r.recovery.filter((a) => a.rule === "revoked-stop")).toMatchObject([
      { stage: "download", code: 1017030 },
    ]);
    expect(r.recovery.some((a) => a.rule === "revoked-skip")).toBe(false);
  });

  it("an expiry while the song plays is requested again once; the new download goes on with the same bytes", async () => {
    await putFaults(sim.url, [stall(3000)]);
    let expiring: Promise<unknown> | null = null;
    let resourceID = "";
    const r = await runPipeline(
      userConfig(sim.url, "expiredplaying", {
        seconds: 3,
        onEvent: (e: PipelineEvent) => {
          if (e.type === "resource" && !resourceID) resourceID = e.resource_id;
          if (e.type === "publishing" && !expiring) {
            expiring = call(sim.url, "POST", `/admin/resources/${encodeURIComponent(resourceID)}/expire`);
          }
        },
      }),
    );
    expect(await expiring).toMatchObject({ body: { code: 0 } });
    expect(r.ok, JSON.stringify(r.failure)).toBe(true);
    expect(r.recovery.filter((a) => a.rule === "expired-rerequest")).toEqual([
      expect.objectContaining({ stage: "download", code: 1017019 }),
    ]);
    expect(r.billable_requests).toBe(2);
    expect(await billedTo(sim.url, "expiredplaying")).toHaveLength(2);
    expect(r.publish!.frames_mixed).toBe(300);
  });
});
