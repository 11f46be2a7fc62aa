import { FRAME_FRAMES } from "../mixer/frame.ts";
import { type PitchNote, VoiceSource } from "../mixer/voice.ts";
import { KARAOKE_CHANNELS, KARAOKE_SAMPLE_RATE } from "./profile.ts";

// A few seconds of something shaped like a karaoke mix, for the pre-encoded Opus packets: a voice singing a
// scale phrase (the pipeline's VoiceSource) over an accompaniment of a sustained chord, a walking bass and a
// hi-hat of seeded noise every eighth note. Opus sizes its VBR packets by content; a pure tone or silence
// would give packets smaller and steadier than a song's. Deterministic: the same samples on every thread.

const MELODY = [60, 62, 64, 65, 67, 65, 64, 62, 60, 67, 72, 67];
const NOTE_MS = 400;
const BASS = [36, 43, 41, 38];
const BASS_FRAMES = (KARAOKE_SAMPLE_RATE * 800) / 1000;
const CHORD = [48, 52, 55, 60];
const TABLE_BITS = 12;
const SINE = new Float64Array(1 << TABLE_BITS);
for (let k = 0; k < SINE.length; k++) SINE[k] = Math.sin((2 * Math.PI * k) / SINE.length);

/** 32-bit phase step per sample of MIDI note `note` (a table oscillator: no transcendental per sample). */
function phaseStep(note: number): number {
  return Math.round(((440 * 2 ** ((note - 69) / 12)) / KARAOKE_SAMPLE_RATE) * 2 ** 32) >>> 0;
}

/** `ms` milliseconds (a whole number of 10 ms frames) of 48 kHz stereo s16, interleaved. */
export function renderReferenceSignal(ms: number): Int16Array {
  const frames = Math.round((ms * KARAOKE_SAMPLE_RATE) / 1000);
  if (frames % FRAME_FRAMES !== 0) throw new RangeError("reference signal: whole 10 ms frames only");
  const out = new Int16Array(frames * KARAOKE_CHANNELS);
  const pitch: PitchNote[] = [];
  for (let t = 0, i = 0; t < ms; t += NOTE_MS, i++) {
    pitch.push({ begin_time: t, duration: NOTE_MS - 40, value: MELODY[i % MELODY.length]! });
  }
  const voice = new VoiceSource(pitch, { seed: 7, maxDetuneCents: 15 });
  for (let f = 0; f < frames; f += FRAME_FRAMES) {
    voice.read(out.subarray(f * KARAOKE_CHANNELS, (f + FRAME_FRAMES) * KARAOKE_CHANNELS));
  }
  const chordSteps = CHORD.map(phaseStep);
  const bassSteps = BASS.map(phaseStep);
  const chordPhase = new Uint32Array(CHORD.length);
  let bassPhase = 0;
  let noise = 0x2545f491;
  const hatPeriod = KARAOKE_SAMPLE_RATE / 4;
  const shift = 32 - TABLE_BITS;
  for (let i = 0; i < frames; i++) {
    let acc = 0;
    for (let n = 0; n < chordSteps.length; n++) {
      acc += 900 * SINE[chordPhase[n]! >>> shift]!;
      chordPhase[n] = chordPhase[n]! + chordSteps[n]!;
    }
    acc += 2500 * SINE[bassPhase >>> shift]!;
    bassPhase = (bassPhase + bassSteps[Math.floor(i / BASS_FRAMES) % BASS.length]!) >>> 0;
    noise ^= noise << 13;
    noise ^= noise >>> 17;
    noise ^= noise << 5;
    const sinceHat = i % hatPeriod;
    const hat = sinceHat < 1440 ? (((noise & 0xffff) - 0x8000) / 0x8000) * 3000 * (1 - sinceHat / 1440) : 0;
    for (let c = 0; c < KARAOKE_CHANNELS; c++) {
      const pan = c === 0 ? 0.8 : 1.2;
      const v = out[i * KARAOKE_CHANNELS + c]! + acc + hat * pan;
      out[i * KARAOKE_CHANNELS + c] = v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v);
    }
  }
  return out;
}
