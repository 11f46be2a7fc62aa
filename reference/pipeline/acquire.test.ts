import { describe, expect, it } from "vitest";
import { TypedEmitter } from "../events.ts";
import type { CopyrightedMusicEvents } from "../music/copyrighted-music.ts";
import type { RequestResourceResult, ResultBase } from "../music/types.ts";
import { type AcquireSettings, acquireFirstUsable, type MusicApi } from "./acquire.ts";
import type { Candidate } from "./pick-song.ts";
import { Recorder } from "./result.ts";

// The acquisition rules against a scripted copyrighted-music module: each call takes the next scripted answer,
// so a test states exactly what the vendor says and checks exactly which calls the pipeline made.

type Step = number | "unanswered";

class ScriptedMusic extends TypedEmitter<CopyrightedMusicEvents> implements MusicApi {
  readonly calls: string[] = [];
  cancelled: string[] = [];
  private n = 0;

  constructor(
    private readonly script: {
      request?: Step[];
      shared?: Step[];
      download?: number[];
    },
  ) {
    super();
  }

  private answer(kind: "request" | "shared", songID: string): RequestResourceResult {
    const step = this.script[kind]?.shift() ?? 0;
    if (step === "unanswered") return { errorCode: 1017098, resource: "" };
    const resource = JSON.stringify({ code: step, message: "", request_id: "x", data: null });
    if (step !== 0) return { errorCode: step, resource };
    const id = `z_${songID}_${++this.n}`;
    return {
      errorCode: 0,
      resource,
      data: {
        is_accompany: 1,
        song_id: songID,
        resources_size: 1,
        resources: [{ resource_id: id, size: 1000, quality: "normal", resource_ttl: 60_000 }],
      },
    };
  }

  async requestResource(c: { songID: string }): Promise<RequestResourceResult> {
    this.calls.push(`request ${c.songID}`);
    return this.answer("request", c.songID);
  }

  async getSharedResource(c: { songID: string }): Promise<RequestResourceResult> {
    this.calls.push(`shared ${c.songID}`);
    return this.answer("shared", c.songID);
  }

  async download(id: string): Promise<ResultBase> {
    this.calls.push(`download ${id}`);
    this.emit("onDownloadProgressUpdate", id, 0.5);
    return { errorCode: this.script.download?.shift() ?? 0 };
  }

  cancelDownload(id = ""): void {
    this.cancelled.push(id);
  }
}

const SONGS: Candidate[] = ["s1", "s2", "s3"].map((id) => ({
  song_id: id,
  song_name: id,
  singer_name: "x",
  duration: 1000,
}));

const SETTINGS: AcquireSettings = {
  roomID: "r",
  vendorID: 0,
  resourceType: 1,
  quality: 0,
  billingMode: 0,
  preferShared: false,
  prerollMs: null,
  startPositionMs: 0,
};

async function acquire(
  music: ScriptedMusic,
  settings: Partial<AcquireSettings> = {},
  signal = new AbortController().signal,
) {
  const rec = new Recorder();
  const out = await acquireFirstUsable({ music, rec, signal, settings: { ...SETTINGS, ...settings } }, SONGS);
  return { out, rec };
}

describe("acquireFirstUsable", () => {
  it("requests and downloads the first song: one billable request", async () => {
    const music = new ScriptedMusic({});
    const { out, rec } = await acquire(music);
    expect(out).toEqual({
      ok: true,
      acquired: { song: SONGS[0], resourceID: "z_s1_1", via: "request", size: 1000, quality: "normal" },
    });
    expect(music.calls).toEqual(["request s1", "download z_s1_1"]);
    expect([rec.billable, rec.shared, rec.recovery.length]).toEqual([1, 0, 0]);
    expect(rec.stages.request_ms).not.toBeNull();
    expect(rec.stages.download_ms).not.toBeNull();
  });

  it("1017019 on download: requests again once and succeeds", async () => {
    const music = new ScriptedMusic({ download: [1017019, 0] });
    const { out, rec } = await acquire(music);
    expect(out.ok).toBe(true);
    expect(music.calls).toEqual(["request s1", "download z_s1_1", "request s1", "download z_s1_2"]);
    expect(rec.billable).toBe(2);
    expect(rec.recovery.map((r) => [r.rule, r.code])).toEqual([["expired-rerequest", 1017019]]);
    expect(rec.errors).toEqual({ "1017019": 1 });
  });

  it("1017019 twice in a row: reports instead of chasing it", async () => {
    const music = new ScriptedMusic({ download: [1017019, 1017019] });
    const { out, rec } = await acquire(music);
    expect(out).toMatchObject({ ok: false, stage: "download", code: 1017019 });
    expect(music.calls.filter((c) => c.startsWith("request"))).toHaveLength(2);
    expect(rec.billable).toBe(2);
  });

  it("a revoked song (on request, or cutting its download) skips to the next and says why", async () => {
    const music = new ScriptedMusic({ request: [1017030, 0, 0], download: [1017030, 0] });
    const { out, rec } = await acquire(music);
    expect(out).toMatchObject({ ok: true, acquired: { song: SONGS[2], resourceID: "z_s3_2" } });
    expect(music.calls).toEqual([
      "request s1",
      "request s2",
      "download z_s2_1",
      "request s3",
      "download z_s3_2",
    ]);
    expect(rec.skipped).toEqual([
      { song_id: "s1", code: 1017030, reason: "no copyright (revoked)" },
      { song_id: "s2", code: 1017030, reason: "no copyright (revoked)" },
    ]);
    expect(rec.recovery.map((r) => [r.rule, r.stage, r.song_id])).toEqual([
      ["revoked-skip", "request", "s1"],
      ["revoked-skip", "download", "s2"],
    ]);
    // The vendor refused s1's request (nothing billed); s2's and s3's were issued.
    expect(rec.billable).toBe(2);
  });

  it("listen-only songs (1017031) are skipped too; when every candidate is revoked it fails with the code", async () => {
    const music = new ScriptedMusic({ request: [1017031, 1017030, 1017030] });
    const { out, rec } = await acquire(music);
    expect(out).toMatchObject({ ok: false, stage: "request", code: 1017030 });
    expect(rec.skipped.map((s) => s.reason)).toEqual([
      "no accompaniment rights (listen only)",
      "no copyright (revoked)",
      "no copyright (revoked)",
    ]);
    expect(rec.billable).toBe(0);
  });

  it("shared first: takes the room's share for free", async () => {
    const music = new ScriptedMusic({});
    const { out, rec } = await acquire(music, { preferShared: true });
    expect(out).toMatchObject({ ok: true, acquired: { via: "shared" } });
    expect(music.calls).toEqual(["shared s1", "download z_s1_1"]);
    expect([rec.billable, rec.shared]).toEqual([0, 1]);
  });

  it("shared first: 1017050 / 1017051 fall back to one billable request", async () => {
    for (const code of [1017050, 1017051]) {
      const music = new ScriptedMusic({ shared: [code] });
      const { out, rec } = await acquire(music, { preferShared: true });
      expect(out).toMatchObject({ ok: true, acquired: { via: "request" } });
      expect(music.calls).toEqual(["shared s1", "request s1", "download z_s1_1"]);
      expect(rec.recovery.map((r) => [r.rule, r.code])).toEqual([["shared-fallback", code]]);
      expect([rec.billable, rec.shared]).toEqual([1, 0]);
    }
  });

  it("an expired shared resource is replaced by the user's own request (a share cannot be fetched twice)", async () => {
    const music = new ScriptedMusic({ download: [1017019, 0] });
    const { out, rec } = await acquire(music, { preferShared: true });
    expect(out).toMatchObject({ ok: true, acquired: { via: "request" } });
    expect(music.calls).toEqual(["shared s1", "download z_s1_1", "request s1", "download z_s1_2"]);
    expect([rec.billable, rec.shared]).toEqual([1, 1]);
  });

  it("a request without a vendor answer is never repeated: it may have billed", async () => {
    const music = new ScriptedMusic({ request: ["unanswered"] });
    const { out, rec } = await acquire(music);
    expect(out).toMatchObject({ ok: false, stage: "request", code: 1017098 });
    expect(music.calls).toEqual(["request s1"]);
    expect([rec.billable, rec.unconfirmed]).toEqual([0, 1]);
  });

  it("other download failures are reported, not retried at this level", async () => {
    const music = new ScriptedMusic({ download: [1017098] });
    const { out } = await acquire(music);
    expect(out).toMatchObject({ ok: false, stage: "download", code: 1017098 });
    expect(music.calls).toEqual(["request s1", "download z_s1_1"]);
  });

  it("reports download progress and cancels the download when aborted", async () => {
    const music = new ScriptedMusic({});
    const ac = new AbortController();
    const events: string[] = [];
    const rec = new Recorder((e) => {
      events.push(e.type);
      if (e.type === "download") ac.abort(new Error("user left"));
    });
    await acquireFirstUsable({ music, rec, signal: ac.signal, settings: SETTINGS }, SONGS);
    expect(events).toContain("download");
    expect(music.cancelled).toEqual(["z_s1_1"]);
  });
});
