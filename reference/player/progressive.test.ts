import { describe, expect, it } from "vitest";
import { allocFrame, FRAME_FRAMES } from "../mixer/frame.ts";
import { wavBytes } from "../music/test-fixtures.ts";
import { MediaPlayerFactory } from "./factory.ts";
import { ZegoMediaPlayerNetworkEvent as Net, type ZegoMediaPlayer } from "./media-player.ts";
import { Playback } from "./playback.ts";
import { ProgressiveFile } from "./progressive-file.ts";
import { bytesToPlay, ProgressivePlayback } from "./progressive-playback.ts";
import { ZegoMediaPlayerState as S } from "./state.ts";

// Playing a file while it downloads, driven frame by frame (the mixer's pull; no clock): the samples equal
// the whole-file Playback's, a play position that reaches missing bytes waits in silence without moving, and a
// failed download stops the player with its code.

/** 3 s of 8 kHz dual-track mono (the CDN's normal tier): a ramp that never repeats within a frame. */
const FILE = wavBytes(24_000, 8000, 2, (i, c) => (((i * 37) % 4000) - 2000) * (c ? -1 : 1));
const HEADER = 44;
const BYTES_PER_SECOND = 8000 * 2 * 2;

function fed(bytes: number): ProgressiveFile {
  const f = new ProgressiveFile(FILE.length);
  f.write(FILE.subarray(0, bytes), 0);
  return f;
}

/** Frames from a playback until it ends (or `max`), each copied. */
function drain(pb: { read(out: Int16Array): number; ended: boolean }, max: number): Int16Array[] {
  const out: Int16Array[] = [];
  const frame = allocFrame();
  for (let i = 0; i < max && !pb.ended; i++) {
    pb.read(frame);
    out.push(frame.slice());
  }
  return out;
}

/** The frames as one byte string (a deep equality of hundreds of arrays is slow). */
function joined(frames: Int16Array[]): Buffer {
  return Buffer.concat(frames.map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength)));
}

async function playerWith(): Promise<ZegoMediaPlayer> {
  return new MediaPlayerFactory({
    resources: { resolvePlayable: () => ({ errorCode: 1017013 }) },
  }).createMediaPlayer();
}

describe("ProgressiveFile", () => {
  it("counts the contiguous prefix, accepts equal overlaps and fails on changed bytes (1017015)", async () => {
    const f = new ProgressiveFile(FILE.length);
    const half = f.whenAvailable(1000);
    f.write(FILE.subarray(2000, 3000), 2000); // past a gap: never counted (downloads write in order)
    expect(f.available).toBe(0);
    f.write(FILE.subarray(0, 2000), 0);
    expect(f.available).toBe(2000);
    await half;
    f.write(FILE.subarray(0, 1500), 0); // a restart with the same bytes
    expect([f.available, f.state]).toEqual([2000, "downloading"]);
    f.write(FILE.subarray(1500, 3000), 1500); // and on past what had arrived
    expect(f.available).toBe(3000);
    const changed = FILE.slice(0, 100);
    changed[60] = (changed[60]! + 1) & 0xff;
    f.write(changed, 0);
    expect([f.state, f.code]).toEqual(["failed", 1017015]);
    expect(() => new ProgressiveFile(0)).toThrow(RangeError);
  });

  it("bytesToPlay: null before the header, then header + start + pre-roll worth of bytes", () => {
    expect(bytesToPlay(fed(20), 0, 200)).toBeNull();
    expect(bytesToPlay(fed(HEADER), 0, 200)).toBe(HEADER + 0.2 * BYTES_PER_SECOND);
    expect(bytesToPlay(fed(HEADER), 1000, 200)).toBe(HEADER + 1.2 * BYTES_PER_SECOND);
    expect(bytesToPlay(fed(HEADER), 2900, 200)).toBe(FILE.length);
  });
});

describe("ProgressivePlayback", () => {
  it("plays exactly the whole-file samples when the bytes stay ahead of the play position", () => {
    const whole = drain(Playback.fromBytes(FILE, "normal"), 400);
    const file = fed(HEADER + 0.3 * BYTES_PER_SECOND);
    const pb = new ProgressivePlayback(file, "normal");
    const got: Int16Array[] = [];
    const frame = allocFrame();
    let sent = file.available;
    while (!pb.ended && got.length < 400) {
      // ~40 ms of file per 10 ms frame, cut mid-frame: the download outruns the play position.
      const next = Math.min(FILE.length, sent + 0.04 * BYTES_PER_SECOND + 7);
      file.write(FILE.subarray(sent, next), sent);
      sent = next;
      if (sent === FILE.length) file.complete();
      pb.read(frame);
      got.push(frame.slice());
    }
    expect(pb.bufferingFrames).toBe(0);
    expect(got.length).toBe(whole.length);
    expect(joined(got).equals(joined(whole))).toBe(true);
    expect(pb.positionMs).toBe(3000);
  });

  it("waits in silence at missing bytes without moving, then goes on with the very next samples", () => {
    const whole = drain(Playback.fromBytes(FILE, "normal"), 400);
    // Half a second and 37.5 frames: the arrived bytes end mid-chunk and mid-frame.
    const file = fed(HEADER + 0.5 * BYTES_PER_SECOND + 150);
    const pb = new ProgressivePlayback(file, "normal");
    const frame = allocFrame();
    const played: Int16Array[] = [];
    for (let i = 0; i < 100; i++) {
      const n = pb.read(frame);
      if (n > 0) played.push(frame.slice());
      else expect(frame.every((s) => s === 0)).toBe(true);
    }
    // Half a second arrived: fewer than 50 frames could play, and the rest of the 100 pulls were silence.
    expect(played.length).toBeGreaterThan(30);
    expect(played.length).toBeLessThan(50);
    expect(pb.buffering).toBe(true);
    expect(pb.bufferingFrames).toBe(100 - played.length);
    const stuckAt = pb.positionMs;
    pb.read(frame);
    expect(pb.positionMs).toBe(stuckAt);
    file.write(FILE.subarray(file.available), file.available);
    file.complete();
    const waited = pb.bufferingFrames;
    while (!pb.ended) {
      pb.read(frame);
      played.push(frame.slice());
    }
    expect(pb.bufferingFrames).toBe(waited);
    expect(pb.buffering).toBe(false);
    expect(played.length).toBe(whole.length);
    expect(joined(played).equals(joined(whole))).toBe(true);
  });

  it("throws on bytes that do not start a WAV (the player's 1017015)", () => {
    const f = new ProgressiveFile(1000);
    f.write(new TextEncoder().encode("RIFF....WAVEnot really"), 0);
    expect(() => new ProgressivePlayback(f, "normal")).toThrow();
  });
});

describe("ZegoMediaPlayer.loadDownloadingResource", () => {
  it("reports BufferBegin / BufferEnded around a wait, and plays on", async () => {
    const file = fed(HEADER + 0.3 * BYTES_PER_SECOND);
    const p = await playerWith();
    const net: number[] = [];
    p.on("onMediaPlayerNetworkEvent", (_p, e) => net.push(e));
    expect(await p.loadDownloadingResource(file, "normal", 0)).toEqual({ errorCode: 0 });
    expect(await p.getTotalDuration()).toBe(3000);
    await p.start();
    const frame = allocFrame();
    for (let i = 0; i < 60; i++) p.source.read(frame);
    expect(net).toEqual([Net.BufferBegin]);
    file.write(FILE.subarray(file.available), file.available);
    p.source.read(frame);
    expect(net).toEqual([Net.BufferBegin, Net.BufferEnded]);
    expect(p.state).toBe(S.Playing);
  });

  it("stops with the download's code when it fails mid-song (a corrupt file: 1017015)", async () => {
    const file = fed(HEADER + BYTES_PER_SECOND);
    const p = await playerWith();
    const states: [number, number][] = [];
    p.on("onMediaPlayerStateUpdate", (_p, s, code) => states.push([s, code]));
    expect(await p.loadDownloadingResource(file, "normal", 500)).toEqual({ errorCode: 0 });
    await p.start();
    const frame = allocFrame();
    for (let i = 0; i < 10; i++) expect(p.source.read(frame)).toBe(FRAME_FRAMES);
    file.fail(1017015);
    expect(p.source.read(frame)).toBe(0);
    expect(frame.every((s) => s === 0)).toBe(true);
    expect(states).toEqual([
      [S.Playing, 0],
      [S.NoPlay, 1017015],
    ]);
    expect(p.state).toBe(S.NoPlay);
    await expect(p.start()).rejects.toMatchObject({ code: 1008003 });
  });

  it("refuses a failed download, a bad position and bytes that are not a WAV", async () => {
    const p = await playerWith();
    const failed = fed(HEADER);
    failed.fail(1017019);
    expect(await p.loadDownloadingResource(failed, "normal", 0)).toEqual({ errorCode: 1017019 });
    expect(await p.loadDownloadingResource(fed(HEADER), "normal", 3001)).toEqual({ errorCode: 1017005 });
    const junk = new ProgressiveFile(100);
    junk.write(new Uint8Array(100), 0);
    expect(await p.loadDownloadingResource(junk, "normal", 0)).toEqual({ errorCode: 1017015 });
  });
});
