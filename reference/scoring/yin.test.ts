import { describe, expect, it } from "vitest";
import { allocFrame, FRAME_FRAMES, SAMPLE_RATE } from "../mixer/frame.ts";
import { noteFrequency, VoiceSource } from "../mixer/voice.ts";
import { hzToNote, YinDetector } from "./yin.ts";

function sineFrames(hz: number, frames: number, amp = 8000): Int16Array[] {
  const out: Int16Array[] = [];
  let t = 0;
  for (let f = 0; f < frames; f++) {
    const fr = allocFrame();
    for (let i = 0; i < FRAME_FRAMES; i++, t++) {
      const v = Math.round(amp * Math.sin((2 * Math.PI * hz * t) / SAMPLE_RATE));
      fr[2 * i] = v;
      fr[2 * i + 1] = v;
    }
    out.push(fr);
  }
  return out;
}

function cents(a: number, b: number): number {
  return 1200 * Math.log2(a / b);
}

describe("YinDetector", () => {
  it("finds sine frequencies across the vocal range within a few cents", () => {
    for (const hz of [82.4, 110, 147, 196, 261.6, 349.2, 440, 587.3, 698.5, 880, 1046.5]) {
      const y = new YinDetector();
      let last = 0;
      for (const fr of sineFrames(hz, 6)) last = y.detect(fr);
      expect(Math.abs(cents(last, hz)), `${hz} Hz -> ${last}`).toBeLessThan(5);
    }
  });

  it("finds the synthetic voice's notes (fundamental + 2nd and 3rd harmonics) at the pitch line's value", () => {
    for (const value of [45, 52, 57, 64, 69, 76, 81]) {
      const voice = new VoiceSource([{ begin_time: 0, duration: 1000, value }], { seed: 3 });
      const y = new YinDetector();
      const fr = allocFrame();
      let last = 0;
      for (let k = 0; k < 10; k++) {
        voice.read(fr);
        last = y.detect(fr);
      }
      expect(Math.abs(cents(last, noteFrequency(value))), `note ${value}`).toBeLessThan(5);
      expect(Math.abs(hzToNote(last) - value)).toBeLessThan(0.05);
    }
  });

  it("stops the lag search at the answer with exactly the full search's estimate", () => {
    const pitch = [45, 52, 57, 64, 69, 76, 81].map((value, i) => ({
      begin_time: i * 300,
      duration: 260,
      value,
    }));
    const voice = new VoiceSource(pitch, { seed: 9, maxDetuneCents: 30 });
    const early = new YinDetector();
    const full = new YinDetector({ earlyExit: false });
    const fr = allocFrame();
    let voiced = 0;
    for (let k = 0; k < 220; k++) {
      voice.read(fr);
      const a = early.detect(fr);
      expect(a).toBe(full.detect(fr));
      if (a > 0) voiced++;
    }
    expect(voiced).toBeGreaterThan(150);
  });

  it("is unvoiced on silence, on breath noise and until its window is full", () => {
    const y = new YinDetector();
    const silent = allocFrame();
    expect(y.detect(silent)).toBe(0);
    const noise = allocFrame();
    let s = 12345;
    for (let i = 0; i < noise.length; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      noise[i] = ((s >> 16) * 60) >> 15;
    }
    for (let k = 0; k < 5; k++) expect(y.detect(noise)).toBe(0);
    const fresh = new YinDetector();
    const [first] = sineFrames(220, 1);
    expect(fresh.detect(first!)).toBe(0);
  });

  it("reuses its buffers: no allocation per frame", () => {
    const y = new YinDetector();
    const w = y.window;
    const d = y.diff;
    for (const fr of sineFrames(300, 8)) y.detect(fr);
    expect(y.window).toBe(w);
    expect(y.diff).toBe(d);
  });

  it("rejects bad options and bad frames", () => {
    expect(() => new YinDetector({ decimation: 7 })).toThrow(RangeError);
    expect(() => new YinDetector({ minHz: 500, maxHz: 400 })).toThrow(RangeError);
    expect(() => new YinDetector({ decimation: 6, maxHz: 3000 })).toThrow(RangeError);
    expect(() => new YinDetector().detect(new Int16Array(10))).toThrow(RangeError);
  });
});
