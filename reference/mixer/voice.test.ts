import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { allocFrame, FRAME_FRAMES, SAMPLE_RATE } from "./frame.ts";
import { noteFrequency, type PitchNote, type VoiceOptions, VoiceSource } from "./voice.ts";

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

/** The voice's fields, read by the oracle below (the class keeps them private). */
interface VoiceFields {
  begins: Int32Array;
  ends: Int32Array;
  incs: Uint32Array;
  endSample: number;
  level: number;
  breath: number;
  t: number;
  cursor: number;
  rng: number;
}

/**
 * The sample-by-sample loop VoiceSource.read replaced (runs per note, the phase stepped by addition), kept as
 * the exactness oracle: it reads a fresh voice's state and renders `frames` 10 ms frames, left channel.
 */
function oracleRender(voice: VoiceSource, frames: number): Int16Array {
  const f = voice as unknown as VoiceFields;
  const SINE = new Int16Array(4096);
  for (let k = 0; k < SINE.length; k++)
    SINE[k] = Math.round(32767 * Math.sin((2 * Math.PI * k) / SINE.length));
  const out = new Int16Array(frames * FRAME_FRAMES);
  let { t, cursor, rng } = f;
  const count = f.ends.length;
  for (let o = 0; o < out.length && t < f.endSample; o++, t++) {
    while (cursor < count && t >= f.ends[cursor]!) cursor++;
    let v = 0;
    if (cursor < count && t >= f.begins[cursor]!) {
      const phase = Math.imul(f.incs[cursor]!, t - f.begins[cursor]!) >>> 0;
      const s =
        (SINE[phase >>> 20]! * 20000 +
          SINE[((phase * 2) >>> 0) >>> 20]! * 8000 +
          SINE[((phase * 3) >>> 0) >>> 20]! * 4000) >>
        15;
      const ramp = Math.min(t - f.begins[cursor]!, f.ends[cursor]! - t);
      const env = ramp < 480 ? ((ramp * f.level) / 480) | 0 : f.level;
      v = (s * env) >> 15;
    }
    if (f.breath !== 0) {
      rng ^= rng << 13;
      rng ^= rng >>> 17;
      rng ^= rng << 5;
      v += ((rng >> 16) * f.breath) >> 15;
    }
    out[o] = v;
  }
  return out;
}

describe("VoiceSource.read against the sample-by-sample oracle", () => {
  // Notes that begin and end off the 10 ms grid, overlap (the later cuts the earlier), touch, last 0 ms or
  // less than two fades, and a gap; high notes (increments above 2^31) and low ones.
  const tricky: PitchNote[] = [
    { begin_time: 3.1, duration: 7.3, value: 30 },
    { begin_time: 9, duration: 40, value: 89 },
    { begin_time: 30, duration: 0, value: 60 },
    { begin_time: 30, duration: 25.02, value: 90 },
    { begin_time: 55.02, duration: 300, value: 10 },
    { begin_time: 700.5, duration: 12, value: 72 },
    { begin_time: 712.5, duration: 500, value: 81 },
  ];
  const cases: [string, PitchNote[], VoiceOptions][] = [
    ["line, default breath", LINE, {}],
    ["line, no breath", LINE, { breath: 0 }],
    ["line, detuned, flat, loud", LINE, { seed: 7, maxDetuneCents: 50, centsOffset: -130, level: 30000 }],
    ["tricky notes", tricky, { seed: 3 }],
    ["tricky notes, from 31.7 ms", tricky, { seed: 9, startMs: 31.7, breath: 200 }],
    ["tricky notes, from 500 ms (in a gap)", tricky, { seed: 1, startMs: 500 }],
  ];
  for (const [name, line, opts] of cases) {
    it(`renders exactly its samples: ${name}`, () => {
      const frames = 140;
      const want = oracleRender(new VoiceSource(line, opts), frames);
      const { pcm, counts } = render(new VoiceSource(line, opts), frames);
      let firstDiff = -1;
      for (let i = 0; i < want.length && firstDiff < 0; i++) {
        if (pcm[2 * i] !== want[i] || pcm[2 * i + 1] !== want[i]) firstDiff = i;
      }
      expect(firstDiff, "first sample that differs").toBe(-1);
      expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    });
  }

  it("readMono gives the left channel of read, in any run lengths, and the same state after", () => {
    const frames = 140;
    const stereo = render(new VoiceSource(tricky, { seed: 4, startMs: 2.5 }), frames).pcm;
    const v = new VoiceSource(tricky, { seed: 4, startMs: 2.5 });
    const mono = new Int16Array(frames * FRAME_FRAMES + 7).fill(-1);
    let at = 0;
    for (const run of [1, 479, 4800, 17, 1000000])
      at += v.readMono(mono, at, Math.min(run, mono.length - at));
    // The line ends inside the buffer: nothing written past it.
    expect(at).toBe(Math.round(1212.5 * 48) - Math.round(2.5 * 48));
    expect(mono[at]).toBe(-1);
    let firstDiff = -1;
    for (let i = 0; i < at && firstDiff < 0; i++) if (mono[i] !== stereo[2 * i]) firstDiff = i;
    expect(firstDiff, "first sample that differs").toBe(-1);
    expect(() => v.readMono(mono, mono.length - 1, 2)).toThrow(RangeError);
  });

  it("resumes exactly where another instance stopped, mid-note", () => {
    const whole = render(new VoiceSource(tricky, { seed: 5 }), 60).pcm;
    const a = new VoiceSource(tricky, { seed: 5 });
    render(a, 37);
    const b = new VoiceSource(tricky, { seed: 5 });
    b.resumeAt(a.sample, a.noiseState);
    const rest = render(b, 23).pcm;
    expect(Buffer.from(rest.buffer).equals(Buffer.from(whole.buffer, 37 * FRAME_FRAMES * 4))).toBe(true);
  });
});
