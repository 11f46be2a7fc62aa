import type { VoiceProfile } from "../audio/shared-voice.ts";
import type { PitchNote } from "../mixer/voice.ts";

// Seeded singer profiles for the synthetic voice, so that score distributions mean something: the voice
// (reference/mixer/voice.ts) sings the very pitch line getStandardPitch serves, so "in tune" is exact and every
// other profile is a measured distortion of it:
//   in-tune        the line as served
//   off:<cents>    every note <cents> off (negative = flat), e.g. off:-100 is a semitone flat
//   late:<ms>      every note <ms> late (the pitch line shifted; the voice's shared rendering is keyed by it)
//   silent         level 0: only breath noise, the detector hears nothing voiced
// A profile becomes VoiceSource options (centsOffset, level) and a pitch line, both part of the shared voice's
// key (shared-voice.ts), so each (song, profile) is still rendered once per process.

export interface SingerProfile {
  name: string;
  centsOffset: number;
  lateMs: number;
  silent: boolean;
}

export const IN_TUNE: SingerProfile = { name: "in-tune", centsOffset: 0, lateMs: 0, silent: false };

/** Parses `in-tune`, `off:<cents>` (−1200..1200), `late:<ms>` (0..5000) or `silent`. */
export function parseSinger(spec: string): SingerProfile {
  if (spec === "in-tune") return IN_TUNE;
  if (spec === "silent") return { name: spec, centsOffset: 0, lateMs: 0, silent: true };
  const m = /^(off|late):(-?\d+)$/.exec(spec);
  if (m) {
    const n = Number(m[2]);
    if (m[1] === "off" && n >= -1200 && n <= 1200)
      return { name: spec, centsOffset: n, lateMs: 0, silent: false };
    if (m[1] === "late" && n >= 0 && n <= 5000)
      return { name: spec, centsOffset: 0, lateMs: n, silent: false };
  }
  throw new RangeError(
    `singer: expected in-tune, off:<cents -1200..1200>, late:<ms 0..5000> or silent, got ${JSON.stringify(spec)}`,
  );
}

/** The profile a VU with voice seed `seed` sings out of `singers` (seed mod count). */
export function singerForSeed(seed: number, singers: readonly SingerProfile[]): SingerProfile {
  if (singers.length === 0) throw new RangeError("singers: need at least one profile");
  return singers[(seed >>> 0) % singers.length]!;
}

/** The line the singer actually sings: the served line, later by lateMs. Allocates once per song. */
export function sungPitchLine(pitch: readonly PitchNote[], s: SingerProfile): PitchNote[] {
  if (s.lateMs === 0) return [...pitch];
  return pitch.map((n) => ({ begin_time: n.begin_time + s.lateMs, duration: n.duration, value: n.value }));
}

/** A voice profile (seed, detune) with the singer's offset and level: the VoiceSource options and the cache key. */
export function singerVoice(base: VoiceProfile, s: SingerProfile): VoiceProfile {
  const out: VoiceProfile = { ...base, centsOffset: s.centsOffset };
  if (s.silent) out.level = 0;
  return out;
}
