import { describe, expect, it } from "vitest";
import { createCatalog } from "../catalog/index.ts";
import { compose } from "./composition.ts";
import { fakeFacts } from "./facts-fixture.ts";
import { estimatePitchHz } from "./pitch-estimate.ts";
import { frameBytes, type RenderSpec, renderPcm } from "./synth.ts";
import { hzToMidi } from "./theory.ts";

function spec(over: Partial<RenderSpec> = {}): RenderSpec {
  return {
    composition: compose(fakeFacts()),
    sampleRate: 44100,
    channelsPerTrack: 2,
    tracks: ["accompaniment", "original"],
    firstSongFrame: 0,
    ...over,
  };
}

function render(s: RenderSpec, frame: number, count: number): Int16Array {
  const buf = Buffer.alloc(count * frameBytes(s));
  renderPcm(s, frame, count, buf);
  return new Int16Array(buf.buffer, buf.byteOffset, buf.length / 2);
}

/** One channel of interleaved PCM as floats. */
function channel(pcm: Int16Array, channels: number, c: number): Float64Array {
  const out = new Float64Array(pcm.length / channels);
  for (let i = 0; i < out.length; i++) out[i] = pcm[i * channels + c] as number;
  return out;
}

const rms = (x: ArrayLike<number>) => Math.sqrt(Array.from(x).reduce((s, v) => s + v * v, 0) / x.length);

describe("renderPcm", () => {
  it("is deterministic and random-access: any chunking gives the same samples as one pass", () => {
    const s = spec();
    const start = 2_500_000;
    const whole = render(s, start, 100_000);
    const again = render(spec(), start, 100_000);
    expect(Buffer.from(again.buffer).equals(Buffer.from(whole.buffer))).toBe(true);
    const cuts = [0, 1, 777, 4096, 50_001, 99_999, 100_000];
    const parts: Int16Array[] = [];
    for (let i = 0; i + 1 < cuts.length; i++) {
      parts.push(render(s, start + cuts[i]!, cuts[i + 1]! - cuts[i]!));
    }
    const joined = Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
    expect(joined.equals(Buffer.from(whole.buffer))).toBe(true);
  });

  it("is audible, never clips, and the original track differs from the accompaniment by the voice", () => {
    const s = spec({ sampleRate: 8000, channelsPerTrack: 1 });
    const c = s.composition;
    const pcm = render(s, 0, Math.round((c.lengthMs * 8000) / 1000));
    let peak = 0;
    for (const v of pcm) peak = Math.max(peak, Math.abs(v));
    expect(peak).toBeLessThan(32767);
    const acc = channel(pcm, 2, 0);
    const orig = channel(pcm, 2, 1);
    // Loud enough to hear, in every section: a 1 s window in the middle of each one.
    for (const sec of c.sections) {
      const mid = Math.round(((sec.begin + sec.end) / 2) * 8);
      expect(rms(acc.subarray(mid - 4000, mid + 4000)), sec.kind).toBeGreaterThan(500);
    }
    // Where a note is sung the original track carries more energy than the accompaniment alone.
    const n = c.notes.find((x) => x.duration > 300)!;
    const a = Math.round((n.begin + 50) * 8);
    const b = Math.round((n.begin + n.duration - 50) * 8);
    const voice = orig.subarray(a, b).map((v, i) => v - (acc[a + i] as number));
    expect(rms(voice)).toBeGreaterThan(1000);
    // And between lines (before the first note) the tracks are identical: no voice in the intro.
    const intro = Math.round((c.notes[0]!.begin - 100) * 8);
    for (let i = 0; i < intro; i += 97) expect(orig[i]).toBe(acc[i]);
  });

  it("sings the pitch line: the voice's fundamental at note midpoints is the note's MIDI value", () => {
    const s = spec();
    const notes = s.composition.notes.filter((n) => n.duration >= 250);
    expect(notes.length).toBeGreaterThan(20);
    const picks = [0, 7, 19, Math.floor(notes.length / 2), notes.length - 1].map((i) => notes[i]!);
    for (const n of picks) {
      const mid = Math.round(((n.begin + n.duration / 2) * 44100) / 1000);
      const pcm = render(s, mid - 2048, 4096);
      const acc = channel(pcm, 4, 0);
      const orig = channel(pcm, 4, 2);
      const voice = orig.map((v, i) => v - (acc[i] as number));
      const midi = hzToMidi(estimatePitchHz(voice, 44100));
      expect(Math.abs(midi - n.pitch), `note at ${n.begin} ms, pitch ${n.pitch}, got ${midi}`).toBeLessThan(
        0.3,
      );
    }
  });

  it("renders frames past the end of the song as silence and validates its output buffer", () => {
    const s = spec({ sampleRate: 8000, channelsPerTrack: 1, tracks: ["original"] });
    const end = Math.round((s.composition.lengthMs * 8000) / 1000);
    expect(render(s, end + 10, 500).every((v) => v === 0)).toBe(true);
    expect(() => renderPcm(s, 0, 10, Buffer.alloc(19))).toThrow(RangeError);
  });

  it("keeps catalog songs audible and within range", () => {
    const catalog = createCatalog(3, 2000);
    for (const i of [0, 1, 2, 5]) {
      const c = compose(catalog.at(i));
      const s = spec({ composition: c, sampleRate: 8000, channelsPerTrack: 1 });
      const frames = Math.round((c.lengthMs * 8000) / 1000);
      let peak = 0;
      for (let f = 0; f < frames; f += 32768) {
        for (const v of render(s, f, Math.min(32768, frames - f))) peak = Math.max(peak, Math.abs(v));
      }
      expect(peak, `song ${i}`).toBeGreaterThan(8000);
      expect(peak, `song ${i}`).toBeLessThan(32767);
    }
  });

  it("synthesises much faster than real time at the sq tier", () => {
    const s = spec({ tracks: ["accompaniment"] });
    const frames = 44100 * 20;
    const buf = Buffer.alloc(65536 * 4);
    const t0 = performance.now();
    for (let f = 0; f < frames; f += 65536) renderPcm(s, 44100 * 30 + f, Math.min(65536, frames - f), buf);
    const ms = performance.now() - t0;
    // 20 s of audio; a loose floor (5x) so a busy shared machine does not flake, the bench shows the real figure.
    expect(ms).toBeLessThan(20_000 / 5);
  });
});
