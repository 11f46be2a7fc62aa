import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Simulator } from "../../simulator/app.ts";
import type { SongFacts } from "../../simulator/catalog/types.ts";
import { testSimulator } from "../../test/sim.ts";
import { hasPitchLine } from "./perform.ts";
import { pickSongs } from "./pick-song.ts";
import { runPipeline } from "./run.ts";
import { userConfig } from "./test-fixtures.ts";

// The standard pitch line is asked for only when there can be one: not for the original song, and not for a
// song whose list item says it has none (vendor 2's pitch_ability 2), which the vendor would answer with
// 1017075. Against a real simulator, counting the simulator's own getStandardPitch requests.

let sim: Simulator;
beforeAll(async () => {
  sim = await testSimulator();
});
afterAll(async () => {
  await sim.close();
});

function vendor2Song(pitch: boolean): SongFacts {
  for (let i = 0; i < sim.ctx.catalog.size; i++) {
    const f = sim.ctx.catalog.at(i);
    if (
      f.item.vendor_id === 2 &&
      f.item.copyright.song_lyric === 1 &&
      f.has_accompaniment &&
      f.has_pitch === pitch &&
      !sim.ctx.catalog.isRevoked(f.item.song_id)
    )
      return f;
  }
  throw new Error(`no vendor-2 accompaniment with pitch ${pitch} in the catalog`);
}

/** getStandardPitch requests the simulator answered so far, by status. */
async function pitchRequests(): Promise<Record<string, number>> {
  const m = await sim.ctx.metrics.vendorRequests.get();
  const out: Record<string, number> = {};
  for (const v of m.values) {
    if (v.labels.route === "getStandardPitch") out[String(v.labels.status)] = v.value;
  }
  return out;
}

describe("the pitch line", () => {
  it("a vendor-2 accompaniment without a pitch line (pitch_ability 2): not asked for, no 1017075, the song plays", async () => {
    const f = vendor2Song(false);
    expect(f.item.pitch_ability).toBe(2);
    const before = await pitchRequests();
    const r = await runPipeline(
      userConfig(sim.url, "no-pitch", {
        vendorID: 2,
        resourceType: 1,
        song: { songID: f.item.song_id },
        seconds: 0.3,
      }),
    );
    expect(r.failure).toBeNull();
    expect(r.song?.song_id).toBe(f.item.song_id);
    expect(r.errors["1017075"]).toBeUndefined();
    expect(await pitchRequests()).toEqual(before);
    expect(r.phases?.loaded).not.toBeNull();
  });

  it("one with a pitch line (pitch_ability 1): asked for once, answered 200 (the test's control)", async () => {
    const f = vendor2Song(true);
    expect(f.item.pitch_ability).toBe(1);
    const before = (await pitchRequests())["200"] ?? 0;
    const r = await runPipeline(
      userConfig(sim.url, "with-pitch", {
        vendorID: 2,
        resourceType: 1,
        song: { songID: f.item.song_id },
        seconds: 0.3,
      }),
    );
    expect(r.failure).toBeNull();
    expect(((await pitchRequests())["200"] ?? 0) - before).toBe(1);
    expect(r.errors).toEqual({});
  });

  it("pickSongs keeps what the list item says; hasPitchLine reads it", async () => {
    const without = vendor2Song(false);
    const music = {
      sendExtendedRequest: async () => ({
        errorCode: 0,
        command: "/song/infos",
        result: JSON.stringify({
          code: 0,
          message: "succeed",
          request_id: "t",
          data: { songs: [without.item] },
        }),
      }),
    };
    const picked = await pickSongs(
      music,
      { songID: without.item.song_id },
      {
        vendorID: 2,
        resourceType: 1,
        max: 5,
      },
    );
    expect(picked).toMatchObject({ ok: true, candidates: [{ noPitchLine: true }] });
    expect(hasPitchLine(1, { noPitchLine: true })).toBe(false);
    expect(hasPitchLine(1, {})).toBe(true);
    expect(hasPitchLine(0, {})).toBe(false);
  });
});
