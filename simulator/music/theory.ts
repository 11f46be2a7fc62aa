// Just enough music theory for plausible pop songs: a key, its diatonic scale and triads, and a few common
// four-chord progressions. Pitches are MIDI note numbers, the unit the vendor's pitch line uses (values 10-90).

export type Mode = "major" | "minor";

const SCALES: Record<Mode, readonly number[]> = {
  major: [0, 2, 4, 5, 7, 9, 11],
  minor: [0, 2, 3, 5, 7, 8, 10],
};

/** Progressions as scale-degree roots (0 = tonic), one chord per bar. */
export const PROGRESSIONS: Record<Mode, readonly (readonly number[])[]> = {
  major: [
    [0, 4, 5, 3],
    [0, 5, 3, 4],
    [5, 3, 0, 4],
    [0, 3, 4, 3],
    [3, 4, 2, 5],
  ],
  minor: [
    [0, 5, 2, 6],
    [0, 3, 4, 0],
    [0, 6, 5, 4],
    [5, 6, 0, 0],
  ],
};

export interface Key {
  /** Pitch class of the tonic, 0 = C. */
  tonicPc: number;
  mode: Mode;
  /** The tonic in the vocal register (MIDI), the melody's centre of gravity. */
  tonicMidi: number;
}

export function makeKey(tonicPc: number, mode: Mode): Key {
  // Keep the tonic between F#3 and F4 so melodies stay in a comfortable singing range.
  const tonicMidi = 54 + ((tonicPc + 6) % 12);
  return { tonicPc, mode, tonicMidi };
}

/** MIDI pitch of a scale degree (any integer; 7 = tonic an octave up) relative to the key's vocal tonic. */
export function degreeToMidi(key: Key, degree: number): number {
  const scale = SCALES[key.mode];
  const octave = Math.floor(degree / 7);
  const step = degree - octave * 7;
  return key.tonicMidi + octave * 12 + (scale[step] as number);
}

/** Triad on a scale degree, voiced close around the given register floor. */
export function triad(key: Key, degree: number, floor: number): number[] {
  const tones = [degree, degree + 2, degree + 4].map((d) => degreeToMidi(key, d));
  return tones.map((m) => {
    let x = m;
    while (x < floor) x += 12;
    while (x >= floor + 12) x -= 12;
    return x;
  });
}

/** Root of a triad in the bass register [floor, floor + 12). */
export function bassRoot(key: Key, degree: number, floor: number): number {
  return triad(key, degree, floor)[0] as number;
}

export function midiToHz(midi: number): number {
  return 440 * 2 ** ((midi - 69) / 12);
}

export function hzToMidi(hz: number): number {
  return 69 + 12 * Math.log2(hz / 440);
}
