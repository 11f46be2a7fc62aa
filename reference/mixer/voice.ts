import { assertFrame, FRAME_FRAMES, SAMPLE_RATE, silenceFrom } from "./frame.ts";
import type { PcmSource } from "./source.ts";

// A synthetic "microphone": sings a song's standard pitch line (getStandardPitch: [{begin_time, duration,
// value}], ms and MIDI-like note numbers 10..90) so load tests publish something a scorer or a listener can
// check. Each note is a fundamental plus 2nd and 3rd harmonics from a 4096-entry sine table, indexed by a
// 32-bit phase, with 10 ms linear fades; a seeded xorshift32 adds a little breath noise and,
// optionally, a per-note detune. Integer-only per sample, so the same seed gives the same samples everywhere.

export interface PitchNote {
  begin_time: number;
  duration: number;
  value: number;
}

export interface VoiceOptions {
  seed?: number;
  /** Peak amplitude of a note in int16 units; default 12000 (about −8.7 dBFS). */
  level?: number;
  /** Peak amplitude of the breath noise, present from 0 ms to the last note's end; default 60, 0 = none. */
  breath?: number;
  /** Each note is detuned by a seeded amount in ±maxDetuneCents (an imperfect singer); default 0. */
  maxDetuneCents?: number;
  /** Every note sung this many cents off the line (a singer who is flat or sharp), in −1200..1200; default 0. */
  centsOffset?: number;
  /** Song position (ms) the voice starts at, as when a player loads with a position. */
  startMs?: number;
}

export const MIN_PITCH = 10;
export const MAX_PITCH = 90;
const TABLE_BITS = 12;
const SINE = new Int16Array(1 << TABLE_BITS);
for (let k = 0; k < SINE.length; k++) SINE[k] = Math.round(32767 * Math.sin((2 * Math.PI * k) / SINE.length));
const INDEX_SHIFT = 32 - TABLE_BITS;
// Harmonic weights in Q15, summing under unity so a note never exceeds its level.
const W1 = 20000;
const W2 = 8000;
const W3 = 4000;
const RAMP = SAMPLE_RATE / 100;
const SAMPLES_PER_MS = SAMPLE_RATE / 1000;

/** Equal temperament, A4 = note 69 = 440 Hz. */
export function noteFrequency(value: number, cents = 0): number {
  return 440 * 2 ** ((value - 69 + cents / 100) / 12);
}

function mixSeed(seed: number): number {
  let s = seed >>> 0;
  s = Math.imul(s ^ (s >>> 16), 0x45d9f3b);
  s = Math.imul(s ^ (s >>> 16), 0x45d9f3b);
  s ^= s >>> 16;
  return s === 0 ? 0x9e3779b9 | 0 : s | 0;
}

function xorshift(s: number): number {
  s ^= s << 13;
  s ^= s >>> 17;
  s ^= s << 5;
  return s | 0;
}

export class VoiceSource implements PcmSource {
  private readonly begins: Int32Array;
  private readonly ends: Int32Array;
  private readonly incs: Uint32Array;
  private readonly endSample: number;
  private readonly level: number;
  private readonly breath: number;
  private readonly seed: number;
  private t = 0;
  private cursor = 0;
  private rng: number;

  constructor(pitch: readonly PitchNote[], opts: VoiceOptions = {}) {
    const level = opts.level ?? 12000;
    const breath = opts.breath ?? 60;
    if (
      !Number.isInteger(level) ||
      !Number.isInteger(breath) ||
      level < 0 ||
      breath < 0 ||
      level + breath > 32767
    ) {
      throw new RangeError(
        "voice: level and breath must be non-negative integers with level + breath ≤ 32767",
      );
    }
    const maxDetune = opts.maxDetuneCents ?? 0;
    if (!(maxDetune >= 0 && maxDetune <= 100))
      throw new RangeError("voice: maxDetuneCents must be in 0..100");
    const offset = opts.centsOffset ?? 0;
    if (!(offset >= -1200 && offset <= 1200))
      throw new RangeError("voice: centsOffset must be in -1200..1200");
    for (const n of pitch) {
      if (
        !Number.isFinite(n.begin_time) ||
        !Number.isFinite(n.duration) ||
        n.begin_time < 0 ||
        n.duration < 0
      ) {
        throw new RangeError(`voice: note times must be finite and non-negative, got ${JSON.stringify(n)}`);
      }
      if (!(n.value >= MIN_PITCH && n.value <= MAX_PITCH)) {
        throw new RangeError(`voice: pitch value must be in ${MIN_PITCH}..${MAX_PITCH}, got ${n.value}`);
      }
    }
    const notes = [...pitch].sort((a, b) => a.begin_time - b.begin_time);
    this.seed = mixSeed(opts.seed ?? 0);
    let detuneRng = xorshift(this.seed ^ 0x5bd1e995);
    this.begins = new Int32Array(notes.length);
    this.ends = new Int32Array(notes.length);
    this.incs = new Uint32Array(notes.length);
    notes.forEach((n, i) => {
      const begin = Math.round(n.begin_time * SAMPLES_PER_MS);
      let end = Math.round((n.begin_time + n.duration) * SAMPLES_PER_MS);
      // Overlapping notes: the later one cuts the earlier off.
      const next = notes[i + 1];
      if (next) end = Math.min(end, Math.round(next.begin_time * SAMPLES_PER_MS));
      detuneRng = xorshift(detuneRng);
      const cents = ((detuneRng >>> 0) / 2 ** 32) * 2 * maxDetune - maxDetune + offset;
      this.begins[i] = begin;
      this.ends[i] = end;
      this.incs[i] = Math.round((noteFrequency(n.value, cents) / SAMPLE_RATE) * 2 ** 32);
    });
    this.endSample = notes.reduce((m, _, i) => Math.max(m, this.ends[i]!), 0);
    this.level = level;
    this.breath = breath;
    this.rng = this.seed;
    this.seek(opts.startMs ?? 0);
  }

  /** Length of the sung line in ms (the last note's end). */
  get durationMs(): number {
    return this.endSample / SAMPLES_PER_MS;
  }

  /** Moves to song position `ms`; noise restarts from the seed so a seek is reproducible. */
  seek(ms: number): void {
    if (!(ms >= 0)) throw new RangeError("voice: position must be ≥ 0");
    this.t = Math.round(ms * SAMPLES_PER_MS);
    let c = 0;
    while (c < this.ends.length && this.ends[c]! <= this.t) c++;
    this.cursor = c;
    this.rng = this.seed;
  }

  /** The 48 kHz sample the next `read` starts at. */
  get sample(): number {
    return this.t;
  }

  /** The breath noise generator's state: at `sample`, with `resumeAt`, lets another instance continue this one. */
  get noiseState(): number {
    return this.rng;
  }

  /**
   * Moves to 48 kHz sample `sample` with the noise generator in `noise` (a `noiseState` read there): another
   * VoiceSource over the same line and options goes on exactly as this one would (reference/audio renders a
   * shared voice's chunks on whichever thread needs them).
   */
  resumeAt(sample: number, noise: number): void {
    if (!Number.isInteger(sample) || sample < 0) throw new RangeError("voice: sample must be an integer ≥ 0");
    this.t = sample;
    let c = 0;
    while (c < this.ends.length && this.ends[c]! <= sample) c++;
    this.cursor = c;
    this.rng = noise | 0;
  }

  read(out: Int16Array): number {
    assertFrame(out);
    const n = this.synth(out, 0, FRAME_FRAMES, true);
    if (n < FRAME_FRAMES) silenceFrom(out, n);
    return n;
  }

  /**
   * Up to `frames` samples of the left channel (the voice is mono: left equals right) into out[at..], one per
   * sample frame; returns how many (fewer at the end of the line, nothing written past it). The same samples
   * and the same state after as `read` over those frames: a shared voice is stored mono this way without a
   * stereo pass.
   */
  readMono(out: Int16Array, at: number, frames: number): number {
    if (
      !Number.isInteger(at) ||
      !Number.isInteger(frames) ||
      at < 0 ||
      frames < 0 ||
      at + frames > out.length
    ) {
      throw new RangeError(`voice: readMono of ${frames} frames at ${at} does not fit ${out.length} samples`);
    }
    return this.synth(out, at, frames, false);
  }

  /** Up to `frames` samples from out[o0]: both channels (stereo) or one per frame; returns the frames made. */
  private synth(out: Int16Array, o0: number, frames: number, stereo: boolean): number {
    const t0 = this.t;
    let t = t0;
    const stop = t + Math.max(0, Math.min(frames, this.endSample - t));
    const step = stereo ? 2 : 1;
    const begins = this.begins;
    const ends = this.ends;
    const incs = this.incs;
    const count = ends.length;
    const level = this.level;
    const breath = this.breath;
    let cursor = this.cursor;
    let rng = this.rng;
    let o = o0;
    // Runs of samples inside one note or between two, so the note's fields are loaded once per run, not per
    // sample. Within a note the phase steps by the note's increment modulo 2^32, which is exactly
    // imul(inc, t - begin) at every t: a seek or a resumeAt lands on the samples a continuous run produced.
    while (t < stop) {
      while (cursor < count && t >= ends[cursor]!) cursor++;
      if (cursor < count && t >= begins[cursor]!) {
        const b = begins[cursor]!;
        const e = ends[cursor]!;
        const inc = incs[cursor]!;
        const segEnd = Math.min(e, stop);
        let phase = Math.imul(inc, t - b) >>> 0;
        for (; t < segEnd; t++) {
          // The 2nd and 3rd harmonics' phases are 2x and 3x modulo 2^32 (<< 1 and imul keep the low 32 bits).
          const s =
            (SINE[phase >>> INDEX_SHIFT]! * W1 +
              SINE[(phase << 1) >>> INDEX_SHIFT]! * W2 +
              SINE[Math.imul(phase, 3) >>> INDEX_SHIFT]! * W3) >>
            15;
          const fromStart = t - b;
          const toEnd = e - t;
          const ramp = Math.min(fromStart, toEnd);
          const env = ramp < RAMP ? ((ramp * level) / RAMP) | 0 : level;
          let v = (s * env) >> 15;
          if (breath !== 0) {
            rng ^= rng << 13;
            rng ^= rng >>> 17;
            rng ^= rng << 5;
            v += ((rng >> 16) * breath) >> 15;
          }
          out[o] = v;
          if (stereo) out[o + 1] = v;
          o += step;
          phase = (phase + inc) >>> 0;
        }
      } else {
        // Between notes (or before the first): breath only, until the next note begins.
        const next = cursor < count ? begins[cursor]! : stop;
        const segEnd = Math.min(next, stop);
        for (; t < segEnd; t++) {
          let v = 0;
          if (breath !== 0) {
            rng ^= rng << 13;
            rng ^= rng >>> 17;
            rng ^= rng << 5;
            v = ((rng >> 16) * breath) >> 15;
          }
          out[o] = v;
          if (stereo) out[o + 1] = v;
          o += step;
        }
      }
    }
    this.t = t;
    this.cursor = cursor;
    this.rng = rng;
    return t - t0;
  }
}
