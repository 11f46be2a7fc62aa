import { describe, expect, it } from "vitest";
import { allocFrame } from "../mixer/frame.ts";
import { type PitchNote, VoiceSource } from "../mixer/voice.ts";
import { type ScoreLine, Scorer } from "./scorer.ts";
import { IN_TUNE, parseSinger, type SingerProfile, singerVoice, sungPitchLine } from "./singer.ts";

// A 40 s melody in the shape the simulator serves (notes of 150-600 ms, MIDI 48-76, rests between phrases),
// with lyric lines of 4-7 notes; seeded so every run sings the same song.
function song(seed = 11): { pitch: PitchNote[]; lines: ScoreLine[] } {
  let s = seed;
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const pitch: PitchNote[] = [];
  const lines: ScoreLine[] = [];
  let t = 1000;
  let value = 60;
  while (t < 40_000) {
    const count = 4 + Math.floor(rnd() * 4);
    const lineStart = t;
    for (let k = 0; k < count; k++) {
      const duration = 150 + Math.floor(rnd() * 450);
      value = Math.max(48, Math.min(76, value + Math.floor(rnd() * 7) - 3));
      pitch.push({ begin_time: t, duration, value });
      t += duration + (rnd() < 0.3 ? 50 : 0);
    }
    lines.push({ begin_time: lineStart, duration: t - lineStart });
    t += 400 + Math.floor(rnd() * 600);
  }
  return { pitch, lines };
}

interface Run {
  scorer: Scorer;
  updates: Array<[number, number]>;
  lineScores: number[];
}

function sing(
  singer: SingerProfile,
  o: { level?: number; pauseFromMs?: number; pauseToMs?: number; seed?: number } = {},
): Run {
  const { pitch, lines } = song();
  const vp = singerVoice({ seed: o.seed ?? 1, maxDetuneCents: 0 }, singer);
  const voice = new VoiceSource(sungPitchLine(pitch, singer), vp);
  const scorer = new Scorer();
  if (o.level !== undefined) scorer.setScoringLevel(o.level);
  const updates: Array<[number, number]> = [];
  scorer.onCurrentPitchValueUpdate = (ms, v) => updates.push([ms, v]);
  scorer.reset();
  scorer.start(pitch, 50, lines);
  const frame = allocFrame();
  const lineScores: number[] = [];
  let seen = 0;
  const end = lines.at(-1)!.begin_time + lines.at(-1)!.duration + 500;
  for (let ms = 0; ms < end; ms += 10) {
    voice.read(frame);
    if (o.pauseFromMs !== undefined && ms === o.pauseFromMs) scorer.pause();
    if (o.pauseToMs !== undefined && ms === o.pauseToMs) scorer.resume();
    scorer.feed(frame, ms);
    if (scorer.linesScored !== seen) {
      seen = scorer.linesScored;
      lineScores.push(scorer.getPreviousScore());
    }
  }
  return { scorer, updates, lineScores };
}

describe("Scorer", () => {
  const inTune = sing(IN_TUNE);

  it("scores an in-tune singer >= 90 of 100 on average, every line scored, total = sum of lines", () => {
    const { scorer, lineScores } = inTune;
    const lines = song().lines.length;
    expect(scorer.getAverageScore()).toBeGreaterThanOrEqual(90);
    expect(scorer.linesScored).toBe(lines);
    expect(scorer.getFullScore()).toBe(100 * lines);
    expect(scorer.getTotalScore()).toBe(lineScores.reduce((a, b) => a + b, 0));
    expect(Math.min(...lineScores)).toBeGreaterThanOrEqual(80);
    expect(Math.max(...lineScores)).toBeLessThanOrEqual(100);
  });

  it("scores a singer 100 cents flat clearly lower", () => {
    const flat = sing(parseSinger("off:-100")).scorer.getAverageScore();
    expect(flat).toBeLessThanOrEqual(inTune.scorer.getAverageScore() - 40);
  });

  it("scores silence 0 on every line", () => {
    const { scorer, lineScores } = sing(parseSinger("silent"));
    expect(scorer.getAverageScore()).toBe(0);
    expect(scorer.getTotalScore()).toBe(0);
    expect(lineScores.every((s) => s === 0)).toBe(true);
    expect(scorer.getCurrentPitch()).toBe(0);
  });

  it("scores a late singer lower than an in-tune one", () => {
    const late = sing(parseSinger("late:250")).scorer.getAverageScore();
    expect(late).toBeLessThan(inTune.scorer.getAverageScore() - 10);
  });

  it("is stricter at level 0 than at level 4 on the same input", () => {
    const sharp = parseSinger("off:30");
    const easy = sing(sharp, { level: 4 }).scorer.getAverageScore();
    const hard = sing(sharp, { level: 0 }).scorer.getAverageScore();
    expect(easy).toBeGreaterThanOrEqual(90);
    expect(hard).toBeLessThan(easy - 20);
  });

  it("reports the current pitch every pitchValueInterval, at the singer's note", () => {
    const { updates } = inTune;
    const { pitch } = song();
    expect(updates.length).toBeGreaterThan(700);
    for (let i = 1; i < updates.length; i++) expect(updates[i]![0] - updates[i - 1]![0]).toBe(50);
    // Mid-note updates carry the note sung.
    let checked = 0;
    for (const [ms, v] of updates) {
      const n = pitch.find((p) => p.begin_time + 60 <= ms && ms <= p.begin_time + p.duration - 20);
      if (!n) continue;
      expect(v).toBe(n.value);
      checked++;
    }
    expect(checked).toBeGreaterThan(300);
  });

  it("does not score a paused span: a singer silent only while paused keeps his in-tune score", () => {
    // Silent from 10 s to 25 s: the scorer is paused over exactly that span.
    const { pitch, lines } = song();
    const scorer = new Scorer();
    scorer.start(pitch, 50, lines);
    const voice = new VoiceSource(pitch, { seed: 1 });
    const frame = allocFrame();
    let updatesWhilePaused = 0;
    let paused = false;
    scorer.onCurrentPitchValueUpdate = () => {
      if (paused) updatesWhilePaused++;
    };
    for (let ms = 0; ms < 42_000; ms += 10) {
      voice.read(frame);
      if (ms === 10_000) {
        scorer.pause();
        paused = true;
      }
      if (ms === 25_000) {
        scorer.resume();
        paused = false;
      }
      if (paused) frame.fill(0);
      scorer.feed(frame, ms);
    }
    expect(updatesWhilePaused).toBe(0);
    expect(scorer.getAverageScore()).toBeGreaterThanOrEqual(90);
    expect(scorer.linesScored).toBeLessThan(lines.length);
    // Without the pause, the same silence costs those lines.
    const unpaused = new Scorer();
    unpaused.start(pitch, 50, lines);
    voice.seek(0);
    for (let ms = 0; ms < 42_000; ms += 10) {
      voice.read(frame);
      if (ms >= 10_000 && ms < 25_000) frame.fill(0);
      unpaused.feed(frame, ms);
    }
    expect(unpaused.getAverageScore()).toBeLessThan(scorer.getAverageScore() - 20);
  });

  it("stop keeps the scores readable and stops callbacks; reset zeroes them", () => {
    const { pitch, lines } = song();
    const scorer = new Scorer();
    let calls = 0;
    scorer.onCurrentPitchValueUpdate = () => calls++;
    scorer.start(pitch, 50, lines);
    const voice = new VoiceSource(pitch, { seed: 1 });
    const frame = allocFrame();
    for (let ms = 0; ms < 20_000; ms += 10) {
      voice.read(frame);
      scorer.feed(frame, ms);
    }
    scorer.stop();
    const total = scorer.getTotalScore();
    const callsAtStop = calls;
    expect(total).toBeGreaterThan(0);
    for (let ms = 20_000; ms < 30_000; ms += 10) {
      voice.read(frame);
      scorer.feed(frame, ms);
    }
    expect(calls).toBe(callsAtStop);
    expect(scorer.getTotalScore()).toBe(total);
    expect(scorer.getPreviousScore()).toBeGreaterThan(0);
    scorer.reset();
    expect([scorer.getTotalScore(), scorer.getAverageScore(), scorer.getPreviousScore()]).toEqual([0, 0, 0]);
    expect(scorer.getFullScore()).toBe(100 * lines.length);
  });

  it("applies setScoringLevel at the next start, not mid-song", () => {
    const sharp = parseSinger("off:30");
    const { pitch, lines } = song();
    const scorer = new Scorer();
    scorer.start(pitch, 50, lines);
    scorer.setScoringLevel(0);
    const voice = new VoiceSource(pitch, singerVoice({ seed: 1, maxDetuneCents: 0 }, sharp));
    const frame = allocFrame();
    for (let ms = 0; ms < 42_000; ms += 10) {
      voice.read(frame);
      scorer.feed(frame, ms);
    }
    expect(scorer.getAverageScore()).toBeGreaterThanOrEqual(90);
  });

  it("reuses its buffers on the per-frame path", () => {
    const { pitch, lines } = song();
    const scorer = new Scorer();
    scorer.start(pitch, 50, lines);
    const { window, diff, raw } = scorer.detector;
    const tables = Object.values(scorer).filter((v) => v instanceof Float64Array);
    const voice = new VoiceSource(pitch, { seed: 1 });
    const frame = allocFrame();
    for (let ms = 0; ms < 5_000; ms += 10) {
      voice.read(frame);
      scorer.feed(frame, ms);
    }
    expect(scorer.detector.window).toBe(window);
    expect(scorer.detector.diff).toBe(diff);
    expect(scorer.detector.raw).toBe(raw);
    const after = Object.values(scorer).filter((v) => v instanceof Float64Array);
    expect(after.length).toBe(tables.length);
    for (const [i, t] of after.entries()) expect(t).toBe(tables[i]);
  });

  it("rejects bad levels, intervals and pitch lines with a RangeError", () => {
    const s = new Scorer();
    expect(() => s.setScoringLevel(5)).toThrow(RangeError);
    expect(() => s.setScoringLevel(1.5)).toThrow(RangeError);
    expect(() => s.start([], 5)).toThrow(RangeError);
    expect(() => s.start([{ begin_time: 0, duration: 100, value: 95 }])).toThrow(RangeError);
    expect(() => s.start([{ begin_time: -1, duration: 100, value: 60 }])).toThrow(RangeError);
    expect(() => parseSinger("off:x")).toThrow(RangeError);
    expect(() => parseSinger("late:-5")).toThrow(RangeError);
  });

  it("scores nothing before start and starts each song's lines afresh", () => {
    const s = new Scorer();
    s.feed(allocFrame(), 0);
    expect(s.linesScored).toBe(0);
    expect(s.getFullScore()).toBe(0);
  });
});
