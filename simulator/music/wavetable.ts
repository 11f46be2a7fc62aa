import { rng } from "./prng.ts";

// Precomputed waveforms, so the synthesiser's inner loop is a table read and two multiplies. Tonal tables hold
// one period of an additive tone with few enough harmonics that the highest melody note stays below the 8 kHz
// tier's Nyquist frequency (no aliasing at any tier). Drum tables hold one whole hit, rendered once per rate.

export const TABLE_BITS = 11;
export const TABLE_SIZE = 1 << TABLE_BITS;
/** Right shift that maps a 32-bit phase to a table index. */
export const PHASE_SHIFT = 32 - TABLE_BITS;

function additive(harmonics: readonly number[]): Float32Array {
  const t = new Float32Array(TABLE_SIZE);
  let peak = 0;
  for (let i = 0; i < TABLE_SIZE; i++) {
    let v = 0;
    for (let h = 0; h < harmonics.length; h++) {
      v += (harmonics[h] as number) * Math.sin((2 * Math.PI * (h + 1) * i) / TABLE_SIZE);
    }
    t[i] = v;
    peak = Math.max(peak, Math.abs(v));
  }
  for (let i = 0; i < TABLE_SIZE; i++) t[i] = (t[i] as number) / peak;
  return t;
}

/** Bright, vowel-like: the sung melody (5 harmonics: 5 x 698 Hz < 4 kHz). */
export const VOICE_TABLE = additive([1, 0.6, 0.35, 0.2, 0.1]);
/** Soft, flute-like: the guide melody in the accompaniment. */
export const LEAD_TABLE = additive([1, 0.25, 0.08]);
/** Organ-like pad for chords. */
export const PAD_TABLE = additive([1, 0.35, 0.18, 0.06]);
export const BASS_TABLE = additive([1, 0.5, 0.28, 0.14, 0.07]);

export interface DrumKit {
  kick: Float32Array;
  snare: Float32Array;
  hat: Float32Array;
}

const kits = new Map<number, DrumKit>();

/** Drum hits at a sample rate (peak 1), deterministic: their noise comes from a fixed-seed generator. */
export function drumKit(sampleRate: number): DrumKit {
  const hit = kits.get(sampleRate);
  if (hit) return hit;
  const noise = rng(0x5eed, `drums:${sampleRate}`);
  const kickLen = Math.round(sampleRate * 0.12);
  const kick = new Float32Array(kickLen);
  let phase = 0;
  for (let i = 0; i < kickLen; i++) {
    const t = i / sampleRate;
    const hz = 45 + 75 * Math.exp(-t * 30);
    phase += (2 * Math.PI * hz) / sampleRate;
    kick[i] = Math.sin(phase) * Math.exp(-t * 22) * Math.min(1, i / 16);
  }
  const snareLen = Math.round(sampleRate * 0.14);
  const snare = new Float32Array(snareLen);
  for (let i = 0; i < snareLen; i++) {
    const t = i / sampleRate;
    const body = Math.sin(2 * Math.PI * 185 * t) * Math.exp(-t * 35);
    const rattle = (noise.next() * 2 - 1) * Math.exp(-t * 25);
    snare[i] = (0.45 * body + 0.55 * rattle) * Math.min(1, i / 8);
  }
  const hatLen = Math.round(sampleRate * 0.04);
  const hat = new Float32Array(hatLen);
  let prev = 0;
  for (let i = 0; i < hatLen; i++) {
    const t = i / sampleRate;
    const n = noise.next() * 2 - 1;
    // First difference of white noise: tilts the spectrum up, a cheap high-pass for a metallic tick.
    hat[i] = 0.5 * (n - prev) * Math.exp(-t * 90);
    prev = n;
  }
  const kit = { kick: normalize(kick), snare: normalize(snare), hat: normalize(hat) };
  kits.set(sampleRate, kit);
  return kit;
}

function normalize(t: Float32Array): Float32Array {
  let peak = 0;
  for (const v of t) peak = Math.max(peak, Math.abs(v));
  if (peak > 0) for (let i = 0; i < t.length; i++) t[i] = (t[i] as number) / peak;
  return t;
}
