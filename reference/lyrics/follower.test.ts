import { type PerformanceEntry, PerformanceObserver } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { LyricFollower } from "./follower.ts";
import { LyricParseError, parseLyricTimeline } from "./timeline.ts";

// The follower against a virtual clock: a player position stepped 10 ms per frame, as the publish tick does,
// so every expectation is exact.

const krc = (begins: number[], offset = 0) =>
  parseLyricTimeline(
    "krc",
    JSON.stringify({
      krc_format_offset: offset,
      lines: begins.map((b, i) => ({ begin_time: b, duration: 500, content: `line ${i}`, words: [] })),
    }),
  );

/** Plays `ms` of audio from `from`, one 10 ms frame at a time; returns the line index after each frame. */
function play(f: LyricFollower, from: number, ms: number): number[] {
  const seen: number[] = [];
  for (let pos = from + 10; pos <= from + ms; pos += 10) {
    f.advance(pos);
    seen.push(f.current);
  }
  return seen;
}

describe("LyricFollower", () => {
  it("advances each line on the first frame whose position reaches its begin, drift under one frame", () => {
    const f = new LyricFollower(krc([1000, 2505, 4000]));
    const seen = play(f, 0, 5000);
    // Position after frame k is 10(k+1): line 0 at 1000 (frame 99), line 1 at 2510 (frame 250), line 2 at 4000.
    expect(seen.indexOf(0)).toBe(99);
    expect(seen.indexOf(1)).toBe(250);
    expect(seen.indexOf(2)).toBe(399);
    expect(f.shown).toBe(3);
    expect(f.skipped).toBe(0);
    expect([...f.driftsMs]).toEqual([0, 5, 0]);
    expect(f.maxDriftMs).toBe(5);
    expect(f.sumDriftMs).toBe(5);
  });

  it("maps a clip's file position to song time with segment_begin (no krc_format_offset for clips)", () => {
    // The clip starts 60 s into the song; its first lyric line begins at 61 s.
    const f = new LyricFollower(krc([61_000, 62_000], 200), { songOffsetMs: 60_000 });
    const seen = play(f, 0, 2000);
    expect(seen.indexOf(0)).toBe(99); // position 1000 + 60000 = 61000
    expect(seen.indexOf(1)).toBe(199);
    expect(f.shown).toBe(2);
  });

  it("shows a whole song's lines krc_format_offset early (begin_time - offset, as ZEGO's lyric view)", () => {
    const f = new LyricFollower(krc([1000, 2000], 200));
    const seen = play(f, 0, 2000);
    expect(seen.indexOf(0)).toBe(79); // position 800 + 200 = 1000
    expect(seen.indexOf(1)).toBe(179);
  });

  it("a late tick shows only the newest line it passed and counts the others as skipped", () => {
    const f = new LyricFollower(krc([100, 120, 140, 400]));
    f.advance(50);
    expect(f.current).toBe(-1);
    f.advance(150); // a stalled loop: three begins passed at once
    expect(f).toMatchObject({ current: 2, shown: 1, skipped: 2, maxDriftMs: 10 });
    f.advance(400);
    expect(f).toMatchObject({ current: 3, shown: 2, skipped: 2 });
  });

  it("a seek backwards relocates without counting; seek() forward does not count a late line", () => {
    const f = new LyricFollower(krc([1000, 2000, 3000]));
    play(f, 0, 2500);
    expect(f).toMatchObject({ current: 1, shown: 2 });
    f.advance(500); // the player went back before the first line
    expect(f).toMatchObject({ current: -1, shown: 2 });
    play(f, 500, 600); // ... and plays line 0 again
    expect(f).toMatchObject({ current: 0, shown: 3 });
    f.seek(3500);
    expect(f).toMatchObject({ current: 2, shown: 3, maxDriftMs: 0 });
    f.advance(3510); // no boundary: nothing changes
    expect(f).toMatchObject({ current: 2, shown: 3 });
  });

  it("stays put while paused (the position does not move) and after the last line", () => {
    const f = new LyricFollower(krc([100]));
    for (let i = 0; i < 50; i++) f.advance(50);
    expect(f.current).toBe(-1);
    play(f, 50, 10_000);
    expect(f).toMatchObject({ current: 0, shown: 1 });
  });

  it("an empty lyric never shows a line", () => {
    const f = new LyricFollower(krc([]));
    play(f, 0, 1000);
    expect(f).toMatchObject({ current: -1, shown: 0 });
  });
});

describe("LyricFollower per-frame cost", () => {
  it("allocates nothing per frame, line boundaries included (a whole song, played again and again)", async () => {
    // 600 lines 2 s apart (20 minutes of song); a window plays 2000 frames (20 s: ~10 boundaries), then seeks
    // back, as the mix-chain allocation test measures: windows until one is clean of collections and growth.
    const f = new LyricFollower(krc(Array.from({ length: 600 }, (_, i) => 1000 + i * 2000)));
    const FRAMES = 2000;
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const gcs: PerformanceEntry[] = [];
    const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
    observer.observe({ entryTypes: ["gc"] });
    let pos = 0;
    const playWindow = () => {
      for (let i = 0; i < FRAMES; i++) {
        pos += 10;
        f.advance(pos);
      }
      if (pos > 1_000_000) pos = 0; // a seek back: relocates, and the lines are shown again
    };
    try {
      for (let w = 0; w < 20; w++) playWindow(); // warm up the JIT
      const windows: number[] = [];
      let clean = false;
      for (let w = 0; w < 20 && !clean; w++) {
        await new Promise((r) => setTimeout(r, 25));
        gc();
        const before = process.memoryUsage().heapUsed;
        const from = performance.now();
        playWindow();
        const to = performance.now();
        const grew = process.memoryUsage().heapUsed - before;
        windows.push(grew);
        await new Promise((r) => setTimeout(r, 20));
        clean = grew < 4 * FRAMES && !gcs.some((g) => g.startTime >= from && g.startTime <= to);
      }
      expect(clean, JSON.stringify(windows)).toBe(true);
      expect(f.shown).toBeGreaterThan(100);
    } finally {
      observer.disconnect();
    }
  });
});

describe("parseLyricTimeline", () => {
  it("sorts lines by begin and keeps their texts; LRC has no offset", () => {
    const t = parseLyricTimeline(
      "lrc",
      JSON.stringify({
        lines: [
          { begin_time: 2000, end_time: 3000, content: "b" },
          { begin_time: 1000, end_time: 2000, content: "a" },
        ],
      }),
    );
    expect([...t.begins]).toEqual([1000, 2000]);
    expect(t.texts).toEqual(["a", "b"]);
    expect(t.offsetMs).toBe(0);
  });

  it("refuses what is not a lyric document, naming why", () => {
    expect(() => parseLyricTimeline("krc", "nope")).toThrow(new LyricParseError("krc lyrics: not JSON"));
    expect(() => parseLyricTimeline("lrc", "{}")).toThrow(/no "lines" list/);
    expect(() => parseLyricTimeline("lrc", JSON.stringify({ lines: [{ begin_time: -1 }] }))).toThrow(
      /lines\[0\]\.begin_time/,
    );
  });
});
