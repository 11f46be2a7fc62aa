import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { allocFrame, FRAME_FRAMES, SAMPLE_RATE } from "./frame.ts";
import { noteFrequency, type PitchNote, VoiceSource } from "./voice.ts";

function render(voice: VoiceSource, frames: number): { pcm: Int16Array; counts: number[] } {
  const pcm = new Int16Array(frames * FRAME_FRAMES * 2);
  const frame = allocFrame();
  const counts: number[] = [];
  for (let f = 0; f < frames; f++) {
    counts.push(voice.read(frame));
    pcm.set(frame, f * frame.length);
  }
  return { pcm, counts };
}

/** Left channel samples [from, to) in ms. */
function slice(pcm: Int16Array, fromMs: number, toMs: number): number[] {
  const out: number[] = [];
  for (let k = (fromMs * SAMPLE_RATE) / 1000; k < (toMs * SAMPLE_RATE) / 1000; k++) out.push(pcm[k * 2]!);
  return out;
}

/**
 * Fundamental by normalised autocorrelation over 50 Hz..2 kHz: the shortest lag whose correlation is within
 * 5% of the best (harmonics make multiples of the period score as well), refined by a parabola.
 */
function estimatePitch(x: number[]): number {
  const minLag = Math.floor(SAMPLE_RATE / 2000);
  const maxLag = Math.ceil(SAMPLE_RATE / 50);
  const n = x.length - maxLag;
  const r = new Float64Array(maxLag + 2);
  let energy = 0;
  for (let i = 0; i < n; i++) energy += x[i]! * x[i]!;
  for (let lag = minLag; lag <= maxLag + 1; lag++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i]! * x[i + lag]!;
    r[lag] = s / energy;
  }
  let best = 0;
  for (let lag = minLag + 1; lag <= maxLag; lag++) best = Math.max(best, r[lag]!);
  let lag = minLag + 1;
  while (!(r[lag]! >= 0.95 * best && r[lag]! >= r[lag - 1]! && r[lag]! >= r[lag + 1]!)) lag++;
  const a = r[lag - 1]!;
  const b = r[lag]!;
  const c = r[lag + 1]!;
  const shift = (a - c) / (2 * (a - 2 * b + c));
  return SAMPLE_RATE / (lag + shift);
}

const LINE: PitchNote[] = [
  { begin_time: 0, duration: 400, value: 45 },
  { begin_time: 500, duration: 400, value: 57 },
  { begin_time: 1000, duration: 400, value: 69 },
  { begin_time: 1500, duration: 400, value: 76 },
  { begin_time: 2000, duration: 400, value: 88 },
];

describe("VoiceSource", () => {
  it("sings each note at its equal-tempered frequency", () => {
    const { pcm } = render(new VoiceSource(LINE, { seed: 3 }), 240);
    for (const note of LINE) {
      const f = estimatePitch(slice(pcm, note.begin_time + 50, note.begin_time + 350));
      const expected = noteFrequency(note.value);
      // 1% is a sixth of a semitone: a neighbouring note would fail.
      expect(Math.abs(f / expected - 1), `note ${note.value}: ${f} Hz vs ${expected} Hz`).toBeLessThan(0.01);
    }
    expect(noteFrequency(69)).toBe(440);
  });

  it("is silent (but for breath) between notes and silent after the last one, reporting its end", () => {
    const { pcm, counts } = render(new VoiceSource(LINE, { seed: 3, breath: 60 }), 260);
    const gap = slice(pcm, 420, 480);
    expect(Math.max(...gap.map(Math.abs))).toBeLessThanOrEqual(60);
    expect(Math.max(...slice(pcm, 100, 300).map(Math.abs))).toBeGreaterThan(5000);
    // 2400 ms = 240 frames of real audio, then nothing.
    expect(counts.slice(0, 240).every((c) => c === FRAME_FRAMES)).toBe(true);
    expect(counts.slice(240).every((c) => c === 0)).toBe(true);
    expect(slice(pcm, 2400, 2600).every((x) => x === 0)).toBe(true);
    const quiet = render(new VoiceSource(LINE, { breath: 0 }), 50).pcm;
    expect(slice(quiet, 420, 480).every((x) => x === 0)).toBe(true);
  });

  it("never exceeds its level and fades in without a click", () => {
    const { pcm } = render(new VoiceSource(LINE, { level: 10000, breath: 0 }), 240);
    expect(Math.max(...slice(pcm, 0, 2400).map(Math.abs))).toBeLessThanOrEqual(10000);
    expect(Math.max(...slice(pcm, 0, 1).map(Math.abs))).toBeLessThan(1000);
  });

  it("is deterministic from its seed, and the seed matters", () => {
    const hash = (seed: number) =>
      createHash("sha256")
        .update(render(new VoiceSource(LINE, { seed, maxDetuneCents: 20 }), 100).pcm)
        .digest("hex");
    expect(hash(11)).toBe(hash(11));
    expect(hash(11)).not.toBe(hash(12));
  });

  it("detunes each note within ±maxDetuneCents", () => {
    const { pcm } = render(new VoiceSource(LINE, { seed: 9, maxDetuneCents: 30, breath: 0 }), 240);
    const cents = LINE.map((n) => {
      const f = estimatePitch(slice(pcm, n.begin_time + 50, n.begin_time + 350));
      return 1200 * Math.log2(f / noteFrequency(n.value));
    });
    for (const c of cents) expect(Math.abs(c)).toBeLessThan(32);
    expect(cents.some((c) => Math.abs(c) > 3)).toBe(true);
  });

  it("starts mid-song and seeks reproducibly", () => {
    const late = render(new VoiceSource(LINE, { seed: 5, startMs: 1000 }), 20).pcm;
    const v = new VoiceSource(LINE, { seed: 5 });
    render(v, 30);
    v.seek(1000);
    expect(render(v, 20).pcm).toEqual(late);
    // The notes equal a continuous run's from the same position, mid-note too (the breath noise restarts from
    // the seed on a seek, so compare without it).
    for (const at of [1000, 1130]) {
      const a = render(new VoiceSource(LINE, { breath: 0, startMs: at }), 20).pcm;
      const b = render(new VoiceSource(LINE, { breath: 0 }), 240).pcm.subarray(at * 96, (at + 200) * 96);
      expect(a).toEqual(b);
    }
  });

  it("rejects pitch values and options outside the spec", () => {
    expect(() => new VoiceSource([{ begin_time: 0, duration: 10, value: 9 }])).toThrow(/10\.\.90/);
    expect(() => new VoiceSource([{ begin_time: 0, duration: 10, value: 91 }])).toThrow(RangeError);
    expect(() => new VoiceSource([{ begin_time: -1, duration: 10, value: 50 }])).toThrow(RangeError);
    expect(() => new VoiceSource([{ begin_time: 0, duration: Number.NaN, value: 50 }])).toThrow(RangeError);
    expect(() => new VoiceSource(LINE, { level: 32767, breath: 10 })).toThrow(RangeError);
    expect(new VoiceSource([]).read(allocFrame())).toBe(0);
  });
});
