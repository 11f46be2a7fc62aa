import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type PerformanceEntry, PerformanceObserver } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, describe, expect, it } from "vitest";
import { ZegoError } from "../errors.ts";
import { allocFrame, FRAME_FRAMES } from "../mixer/frame.ts";
import { volumeToGain } from "../mixer/kernel.ts";
import { Mixer } from "../mixer/mixer.ts";
import { tempDir, wavBytes } from "../music/test-fixtures.ts";
import { MediaPlayerFactory } from "./factory.ts";
import type { ZegoMediaPlayer } from "./media-player.ts";
import type { PlayableLookup, PlayableResources } from "./resources.ts";
import { ZegoMediaPlayerState as S } from "./state.ts";

// The media player against WAV files on disk and a fake resource lookup: states, events, errors, exact
// samples (48 kHz files pass the resampler untouched; DC passes it bit-exactly at any rate) and the mixer.

const tmp = tempDir("ktv-player-");
afterAll(() => tmp.remove());

function wavFile(
  name: string,
  frames: number,
  rate: number,
  channels: number,
  f: (i: number, c: number) => number,
) {
  const path = join(tmp.dir, name);
  writeFileSync(path, wavBytes(frames, rate, channels, f));
  return path;
}

const RAMP = (i: number) => 1000 + (i % 100);
/** 2.5 s, 48 kHz, hq layout x 2 tracks: accompaniment L/R = ±ramp, original L/R = ±5000. */
const DUAL_48K = wavFile("dual48.wav", 120_000, 48_000, 4, (i, c) => [RAMP(i), -RAMP(i), 5000, -5000][c]!);
/** 3 s, 8 kHz, normal layout x 2 tracks (mono each): DC 1200 and DC -800. */
const DUAL_8K = wavFile("dual8.wav", 24_000, 8000, 2, (_i, c) => (c === 0 ? 1200 : -800));
/** 1 s, 48 kHz stereo, one track, DC 10000. */
const DC_48K = wavFile("dc48.wav", 48_000, 48_000, 2, () => 10_000);
/** 30 s, 8 kHz mono x 2: the steady-state allocation check plays 20 s windows from the top. */
const LONG_8K = wavFile("long8.wav", 240_000, 8000, 2, (i, c) => ((i * 37) % 4000) - (c ? 1000 : 2000));
const CORRUPT = join(tmp.dir, "corrupt.wav");
writeFileSync(CORRUPT, "RIFF....WAVEnot really");

const LOOKUPS: Record<string, PlayableLookup> = {
  dual48: { errorCode: 0, path: DUAL_48K, quality: "hq" },
  dual8: { errorCode: 0, path: DUAL_8K, quality: "normal" },
  dc48: { errorCode: 0, path: DC_48K, quality: "hq" },
  long8: { errorCode: 0, path: LONG_8K, quality: "normal" },
  corrupt: { errorCode: 0, path: CORRUPT, quality: "normal" },
  expired: { errorCode: 1008011 },
  notDownloaded: { errorCode: 1017013 },
};
const resources: PlayableResources = {
  resolvePlayable: (id) => LOOKUPS[id] ?? { errorCode: 1017018 },
};

async function player(mixer?: Mixer) {
  const factory = new MediaPlayerFactory({ resources, ...(mixer ? { mixer } : {}) });
  const p = await factory.createMediaPlayer();
  const states: number[] = [];
  const progress: number[] = [];
  p.on("onMediaPlayerStateUpdate", (who, state, errorCode) => {
    expect(who).toBe(p);
    expect(errorCode).toBe(0);
    states.push(state);
  });
  p.on("onMediaPlayerPlayingProgress", (_p, ms) => progress.push(ms));
  return { p, states, progress, factory };
}

function pull(p: ZegoMediaPlayer, frames: number, out = allocFrame()): Int16Array {
  for (let i = 0; i < frames; i++) p.source.read(out);
  return out;
}

async function thrownCode(f: () => Promise<unknown>): Promise<number> {
  try {
    await f();
  } catch (e) {
    if (e instanceof ZegoError) return e.code;
    throw e;
  }
  throw new Error("expected a ZegoError");
}

describe("MediaPlayerFactory", () => {
  it("allows four players; the fifth is 1008030; a destroyed player frees its index", async () => {
    const f = new MediaPlayerFactory({ resources });
    const ps = await Promise.all([1, 2, 3, 4].map(() => f.createMediaPlayer()));
    expect(ps.map((p) => p.getIndex())).toEqual([0, 1, 2, 3]);
    expect(await thrownCode(() => f.createMediaPlayer())).toBe(1008030);
    await f.destroyMediaPlayer(ps[2]!);
    expect(f.players).toHaveLength(3);
    expect((await f.createMediaPlayer()).getIndex()).toBe(2);
    expect(await thrownCode(() => ps[2]!.start())).toBe(1008001);
    expect(await thrownCode(() => ps[2]!.loadCopyrightedMusicResourceWithPosition("dc48", 0))).toBe(1008001);
  });
});

describe("load", () => {
  it("passes the lookup's verdict through: 1008011 expired, 1017013 not downloaded, 1017018 unknown", async () => {
    const { p } = await player();
    expect(await p.loadCopyrightedMusicResourceWithPosition("expired", 0)).toEqual({ errorCode: 1008011 });
    expect(await p.loadCopyrightedMusicResourceWithPosition("notDownloaded", 0)).toEqual({
      errorCode: 1017013,
    });
    expect(await p.loadCopyrightedMusicResourceWithPosition("nope", 0)).toEqual({ errorCode: 1017018 });
    expect(await p.loadCopyrightedMusicResourceWithPosition("corrupt", 0)).toEqual({ errorCode: 1017015 });
    expect(await p.getTotalDuration()).toBe(0);
  });

  it("1017005 for a start position outside 0..duration or not an integer; the end itself is allowed", async () => {
    const { p } = await player();
    for (const bad of [-1, 2501, 1.5, Number.NaN]) {
      expect(await p.loadCopyrightedMusicResourceWithPosition("dual48", bad)).toEqual({ errorCode: 1017005 });
    }
    expect(await p.getTotalDuration()).toBe(0);
    expect(await p.loadCopyrightedMusicResourceWithPosition("dual48", 2500)).toEqual({ errorCode: 0 });
    expect(await p.getTotalDuration()).toBe(2500);
    expect(await p.getCurrentProgress()).toBe(2500);
  });

  it("1008003 for start/pause/resume/track before a load; 1008016 for seekTo", async () => {
    const { p } = await player();
    expect(await thrownCode(() => p.start())).toBe(1008003);
    expect(await thrownCode(() => p.pause())).toBe(1008003);
    expect(await thrownCode(() => p.resume())).toBe(1008003);
    expect(await thrownCode(() => p.setAudioTrackIndex(0))).toBe(1008003);
    expect(await p.seekTo(0)).toEqual({ errorCode: 1008016 });
    await p.stop(); // always safe
  });
});

describe("playback follows the frames pulled", () => {
  it("states, progress every interval, pause = silence in place, seek, end, replay, stop", async () => {
    const { p, states, progress } = await player();
    await p.setProgressInterval(500);
    expect(await p.loadCopyrightedMusicResourceWithPosition("dual48", 0)).toEqual({ errorCode: 0 });
    expect(await p.getCurrentState()).toBe(S.NoPlay);
    const out = allocFrame();
    expect(p.source.read(out)).toBe(0); // loaded but not started: silence
    expect(out.every((s) => s === 0)).toBe(true);
    await p.start();
    await new Promise((r) => setTimeout(r, 30));
    expect(await p.getCurrentProgress()).toBe(0); // wall time does not move it
    pull(p, 100, out);
    expect(await p.getCurrentProgress()).toBe(1000);
    expect(progress).toEqual([500, 1000]);

    await p.pause();
    expect(p.source.read(out)).toBe(0);
    expect(out.every((s) => s === 0)).toBe(true);
    pull(p, 10, out);
    expect(await p.getCurrentProgress()).toBe(1000);
    await p.resume();
    expect(p.source.read(out)).toBe(FRAME_FRAMES);
    expect(await p.getCurrentProgress()).toBe(1010);

    expect(await p.seekTo(2000)).toEqual({ errorCode: 0 });
    expect(await p.getCurrentProgress()).toBe(2000);
    pull(p, 60, out);
    expect(await p.getCurrentProgress()).toBe(2500);
    expect(progress).toEqual([500, 1000, 2500]); // the seek restarts the interval
    expect(states).toEqual([S.Playing, S.Pausing, S.Playing, S.PlayEnded]);
    expect(p.source.read(out)).toBe(0);

    await p.start(); // after the end: from the top
    expect(await p.getCurrentProgress()).toBe(0);
    p.source.read(out);
    expect(out[0]).toBe(RAMP(0));
    await p.stop();
    expect(states).toEqual([S.Playing, S.Pausing, S.Playing, S.PlayEnded, S.Playing, S.NoPlay]);
    expect(await p.getTotalDuration()).toBe(0);
    expect(await p.getCurrentProgress()).toBe(0);
    expect(await thrownCode(() => p.start())).toBe(1008003);
  });

  it("seekTo: 1017006 outside 0..duration; seeking back after the end makes it playable again", async () => {
    const { p, states } = await player();
    await p.loadCopyrightedMusicResourceWithPosition("dc48", 900);
    for (const bad of [-1, 1001, 0.5]) expect(await p.seekTo(bad)).toEqual({ errorCode: 1017006 });
    await p.start();
    pull(p, 11);
    expect(await p.getCurrentState()).toBe(S.PlayEnded);
    expect(await p.seekTo(500)).toEqual({ errorCode: 0 });
    expect(await p.getCurrentState()).toBe(S.NoPlay);
    await p.start();
    const out = pull(p, 1);
    expect(out[0]).toBe(10_000);
    expect(states).toEqual([S.Playing, S.PlayEnded, S.NoPlay, S.Playing]);
  });

  it("setProgressInterval(0) stops progress events", async () => {
    const { p, progress } = await player();
    await p.setProgressInterval(0);
    await p.loadCopyrightedMusicResourceWithPosition("dual48", 0);
    await p.start();
    pull(p, 150);
    expect(progress).toEqual([]);
    expect(await thrownCode(() => p.setProgressInterval(-1))).toBe(1000017);
  });

  it("loading another resource unloads the first (NoPlay)", async () => {
    const { p, states } = await player();
    await p.loadCopyrightedMusicResourceWithPosition("dual48", 0);
    await p.start();
    await p.loadCopyrightedMusicResourceWithPosition("dc48", 100);
    expect(states).toEqual([S.Playing, S.NoPlay]);
    expect(await p.getTotalDuration()).toBe(1000);
    expect(await p.getCurrentProgress()).toBe(100);
  });
});

describe("dual-track accompaniment", () => {
  it("48 kHz hq x 2: track 0 is the accompaniment's channels, track 1 the original's, sample-exact", async () => {
    const { p } = await player();
    await p.loadCopyrightedMusicResourceWithPosition("dual48", 0);
    expect(await p.getAudioTrackCount()).toBe(2);
    await p.start();
    const out = allocFrame();
    p.source.read(out);
    for (let i = 0; i < FRAME_FRAMES; i++) {
      expect([out[2 * i], out[2 * i + 1]]).toEqual([RAMP(i), -RAMP(i)]);
    }
    await p.setAudioTrackIndex(1);
    p.source.read(out); // input already inside the resampler plays out first
    p.source.read(out);
    expect(out.every((s, k) => s === (k % 2 === 0 ? 5000 : -5000))).toBe(true);
    expect(await thrownCode(() => p.setAudioTrackIndex(2))).toBe(1008040);
    expect(await thrownCode(() => p.setAudioTrackIndex(-1))).toBe(1008040);
  });

  it("8 kHz normal x 2 (mono tracks): each track plays on both channels, DC bit-exact after resampling", async () => {
    const { p } = await player();
    await p.loadCopyrightedMusicResourceWithPosition("dual8", 1000);
    await p.start();
    const out = pull(p, 3); // past the filter's ramp-in
    expect(out.every((s) => s === 1200)).toBe(true);
    await p.setAudioTrackIndex(1);
    // The ~14 ms of input the resampler holds and its 4 ms filter span play out first.
    pull(p, 3, out);
    expect(out.every((s) => s === -800)).toBe(true);
    expect(await p.getCurrentProgress()).toBe(1060);
  });

  it("a single-track file has one track: index 1 is 1008040", async () => {
    const { p } = await player();
    await p.loadCopyrightedMusicResourceWithPosition("dc48", 0);
    expect(await p.getAudioTrackCount()).toBe(1);
    await p.setAudioTrackIndex(0);
    expect(await thrownCode(() => p.setAudioTrackIndex(1))).toBe(1008040);
  });
});

describe("volume and aux", () => {
  it("defaults to 60; 0..200 integers only (1017007 otherwise); setVolume sets both", async () => {
    const { p } = await player();
    expect([await p.getPlayVolume(), await p.getPublishVolume()]).toEqual([60, 60]);
    for (const bad of [-1, 201, 50.5, Number.NaN]) {
      expect(await thrownCode(() => p.setPlayVolume(bad))).toBe(1017007);
      expect(await thrownCode(() => p.setPublishVolume(bad))).toBe(1017007);
      expect(await thrownCode(() => p.setVolume(bad))).toBe(1017007);
    }
    await p.setPlayVolume(0);
    await p.setPublishVolume(200);
    expect([await p.getPlayVolume(), await p.getPublishVolume()]).toEqual([0, 200]);
    await p.setVolume(150);
    expect([await p.getPlayVolume(), await p.getPublishVolume()]).toEqual([150, 150]);
  });

  it("joins the publish mixer muted; enableAux mixes it in at the publish volume; destroy leaves", async () => {
    const mixer = new Mixer();
    const { p } = await player(mixer);
    expect(mixer.size).toBe(1);
    await p.loadCopyrightedMusicResourceWithPosition("dc48", 0);
    await p.start();
    const out = allocFrame();
    mixer.mix(out);
    expect(out.every((s) => s === 0)).toBe(true);
    expect(await p.getCurrentProgress()).toBe(10); // muted, but pulled: time moves
    await p.enableAux(true);
    expect(p.auxEnabled).toBe(true);
    mixer.mix(out);
    const at60 = (10_000 * volumeToGain(60) + 16_384) >> 15;
    expect(at60).toBe(6000);
    expect(out.every((s) => s === at60)).toBe(true);
    await p.setPublishVolume(100);
    mixer.mix(out);
    expect(out.every((s) => s === 10_000)).toBe(true);
    await p.enableAux(false);
    mixer.mix(out);
    expect(out.every((s) => s === 0)).toBe(true);
    p.destroy();
    expect(mixer.size).toBe(0);
  });

  it("a throwing event listener does not break the frame pull", async () => {
    const { p, states } = await player();
    const errors: unknown[] = [];
    p.onListenerError = (_e, err) => errors.push(err);
    p.on("onMediaPlayerPlayingProgress", () => {
      throw new Error("app bug");
    });
    await p.setProgressInterval(100);
    await p.loadCopyrightedMusicResourceWithPosition("dc48", 0);
    await p.start();
    expect(() => pull(p, 200)).not.toThrow();
    expect(errors).toHaveLength(10);
    expect(states.at(-1)).toBe(S.PlayEnded);
  });
});

describe("listeners that act on the player", () => {
  it("a progress listener that stops the player at the last frame leaves it stopped, not ended", async () => {
    const { p, states } = await player();
    await p.setProgressInterval(1000);
    p.on("onMediaPlayerPlayingProgress", () => void p.stop());
    await p.loadCopyrightedMusicResourceWithPosition("dc48", 0);
    await p.start();
    pull(p, 100);
    expect(states).toEqual([S.Playing, S.NoPlay]);
    expect(await p.getCurrentState()).toBe(S.NoPlay);
  });
});

describe("steady state", () => {
  it("pulling frames allocates nothing (file -> track -> resampler -> frame)", async () => {
    const { p } = await player();
    await p.setProgressInterval(0);
    await p.loadCopyrightedMusicResourceWithPosition("long8", 0);
    await p.setAudioTrackIndex(1);
    await p.start();
    const FRAMES = 2000;
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const gcs: PerformanceEntry[] = [];
    const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
    observer.observe({ entryTypes: ["gc"] });
    try {
      const out = allocFrame();
      pull(p, 1500, out); // warm up the JIT
      const windows: { from: number; to: number; grew: number }[] = [];
      const clean = (w: { from: number; to: number; grew: number }) =>
        w.grew < 4 * FRAMES && !gcs.some((g) => g.startTime >= w.from && g.startTime <= w.to);
      // As in mixer/mix-chain.test.ts: a window without a collection and with < 4 bytes of growth per frame
      // proves the steady state. One 16-byte object per frame dirties every window (~200 KB each); until the
      // optimising compiler has installed its code (slower on a loaded machine) or while the test runner's
      // own background work runs, windows are dirty too, so up to ten are tried, with a pause between them.
      for (let w = 0; w < 10; w++) {
        expect(await p.seekTo(0)).toEqual({ errorCode: 0 }); // outside the window: a seek may allocate
        await new Promise((r) => setTimeout(r, 10));
        gc();
        const before = process.memoryUsage().heapUsed;
        const from = performance.now();
        pull(p, FRAMES, out);
        const to = performance.now();
        windows.push({ from, to, grew: process.memoryUsage().heapUsed - before });
        await new Promise((r) => setTimeout(r, 20)); // GC entries are delivered asynchronously
        if (clean(windows.at(-1)!)) break;
      }
      expect(windows.filter(clean).length, JSON.stringify(windows.map((w) => w.grew))).toBe(1);
      expect(await p.getCurrentState()).toBe(S.Playing);
    } finally {
      observer.disconnect();
    }
  });
});
