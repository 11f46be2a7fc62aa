import type { SongFacts } from "../catalog/types.ts";
import { type Rng, rng } from "./prng.ts";
import { bassRoot, degreeToMidi, type Key, type Mode, makeKey, PROGRESSIONS, triad } from "./theory.ts";
import { joinUnits, type Language, languageOf, lyricUnits } from "./words.ts";

// A song's composition, derived only from its SongFacts: the single source that audio, LRC, KRC and the pitch
// line all read, so they agree by construction (word times = note times = what the synthesized voice sings).
// All times are integer ms within the full song.

export type SectionKind = "intro" | "verse" | "chorus" | "interlude" | "outro";

export interface Section {
  kind: SectionKind;
  begin: number;
  end: number;
}

/** One sung note of the vocal melody; `pitch` is a MIDI note number (the pitch line's value). */
export interface Note {
  begin: number;
  duration: number;
  pitch: number;
}

/** One karaoke word: exactly one note. English words carry their trailing space except the line's last. */
export interface Word {
  begin: number;
  duration: number;
  text: string;
}

export interface LyricLine {
  begin: number;
  /** End of the last word (the breath after it is not part of the line). */
  end: number;
  text: string;
  words: Word[];
  kind: SectionKind;
}

export interface ChordEvent {
  begin: number;
  duration: number;
  /** Scale degree of the root (0 = tonic). */
  degree: number;
  /** Triad, MIDI, voiced in the pad register. */
  tones: number[];
  /** Root in the bass register, MIDI. */
  bass: number;
}

export interface Composition {
  song_id: string;
  lengthMs: number;
  bpm: number;
  beatMs: number;
  key: Key;
  language: Language;
  /** No words (pure music): the melody is played by the lead instrument, never sung. */
  instrumental: boolean;
  sections: Section[];
  notes: Note[];
  lines: LyricLine[];
  chords: ChordEvent[];
  /** Where the first sung note begins (end of the intro). */
  preludeEndMs: number;
}

const MIN_LINE_MS = 500;
const BEATS_PER_BAR = 4;
const BEATS_PER_LINE = 8;
// Melody range in scale degrees around the vocal tonic: about a fifth below to an octave above.
const LOW_DEGREE = -3;
const HIGH_DEGREE = 7;

interface Zone {
  begin: number;
  end: number;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/** The song's timeline: where singing is forbidden (intro, clip prelude, outro) and where lines must start. */
function planTimeline(f: SongFacts, lengthMs: number, barMs: number, r: Rng) {
  const clip = f.clip;
  const clipValid =
    clip.segment_end > clip.segment_begin && clip.segment_begin >= 0 && clip.segment_begin < lengthMs;
  const clipVocal = clipValid ? clip.segment_begin + Math.max(0, clip.prelude_duration) : -1;

  // The catalog fixes where the intro ends (what /api/get_prelude_end_time reports for whole-song files);
  // an implausible value (none, or past half the song) falls back to 2 or 4 bars.
  const bars = Math.min(Math.round(r.pick([2, 4]) * barMs), Math.round(lengthMs * 0.25));
  let introEnd = f.intro_end > 0 && f.intro_end < lengthMs * 0.5 ? Math.round(f.intro_end) : bars;
  // The clip's prelude ends where singing starts: if that is inside our intro, the intro must end there.
  if (clipValid && clipVocal > 0 && clipVocal < introEnd) introEnd = clipVocal;

  const chorus = f.chorus
    .map((c) => ({ begin: clamp(c.start, 0, lengthMs), end: clamp(c.end, 0, lengthMs) }))
    .filter((c) => c.end > c.begin);
  let outroStart = lengthMs - Math.min(Math.round(2 * barMs), Math.round(lengthMs * 0.1));
  const lastChorusEnd = chorus.reduce((m, c) => Math.max(m, c.end), 0);
  if (lastChorusEnd > outroStart && lastChorusEnd < lengthMs) outroStart = lastChorusEnd;
  if (clipValid && clipVocal < lengthMs)
    outroStart = Math.max(outroStart, Math.min(lengthMs, clipVocal + 4000));

  const zones: Zone[] = [{ begin: 0, end: introEnd }];
  if (clipValid && clipVocal > clip.segment_begin) zones.push({ begin: clip.segment_begin, end: clipVocal });
  zones.push({ begin: outroStart, end: lengthMs });
  const inZone = (t: number) => zones.some((z) => t >= z.begin && t < z.end);

  const cuts = new Set<number>([introEnd, outroStart]);
  for (const z of zones) cuts.add(z.begin).add(z.end);
  for (const c of chorus) cuts.add(c.begin).add(c.end);
  if (clipValid) cuts.add(clipVocal);
  const points = [...cuts].filter((t) => t >= introEnd && t <= outroStart).sort((a, b) => a - b);

  const kindAt = (t: number): SectionKind => {
    if (t < introEnd) return "intro";
    if (t >= outroStart) return "outro";
    if (inZone(t)) return "interlude";
    return chorus.some((c) => t >= c.begin && t < c.end) ? "chorus" : "verse";
  };

  const regions: Zone[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const begin = points[i] as number;
    const end = points[i + 1] as number;
    if (end - begin >= MIN_LINE_MS && !inZone(begin)) regions.push({ begin, end });
  }
  return { introEnd, outroStart, regions, kindAt, cutPoints: [0, ...points, lengthMs] };
}

function sectionsOf(cutPoints: number[], kindAt: (t: number) => SectionKind): Section[] {
  const pts = [...new Set(cutPoints)].sort((a, b) => a - b);
  const out: Section[] = [];
  for (let i = 0; i + 1 < pts.length; i++) {
    const begin = pts[i] as number;
    const end = pts[i + 1] as number;
    if (end <= begin) continue;
    const kind = kindAt(begin);
    const last = out[out.length - 1];
    if (last && last.kind === kind && last.end === begin) last.end = end;
    else out.push({ kind, begin, end });
  }
  return out;
}

/** Splits `steps` half-beats into note lengths; the line's last note is held longer. */
function rhythm(r: Rng, steps: number): number[] {
  const out: number[] = [];
  let left = steps;
  while (left > 0) {
    const want = left <= 3 ? left : r.pick([1, 1, 1, 2, 2, 2, 3, 4]);
    const len = Math.min(want, left);
    out.push(len);
    left -= len;
  }
  return out;
}

function melodyDegrees(r: Rng, count: number, centre: number): number[] {
  const out: number[] = [];
  let d = centre + r.pick([-2, 0, 2]);
  for (let i = 0; i < count; i++) {
    if (i > 0) {
      // Mostly stepwise motion with a pull back to the section's centre, like a singable tune.
      const pull = d > centre + 2 ? -1 : d < centre - 2 ? 1 : 0;
      d += r.pick([-2, -1, -1, 0, 1, 1, 2]) + pull;
    }
    if (i === count - 1)
      d = [0, 2, 4, 7].reduce((best, t) => (Math.abs(t - d) < Math.abs(best - d) ? t : best), 0);
    d = clamp(d, LOW_DEGREE, HIGH_DEGREE);
    out.push(d);
  }
  return out;
}

export function compose(f: SongFacts): Composition {
  const lengthMs = Math.max(1000, f.item.duration, f.item.accompany_duration ?? 0);
  const bpm = clamp(Number.isFinite(f.bpm) && f.bpm > 0 ? f.bpm : 100, 50, 200);
  const beatMs = 60_000 / bpm;
  const barMs = BEATS_PER_BAR * beatMs;
  const keyRng = rng(f.key, "key");
  const mode: Mode = keyRng.chance(0.35) ? "minor" : "major";
  const key = makeKey(keyRng.int(0, 11), mode);
  const language = languageOf(f.item.song_name);
  const instrumental = f.pure_music;
  const plan = planTimeline(f, lengthMs, barMs, rng(f.key, "timeline"));

  const notes: Note[] = [];
  const lines: LyricLine[] = [];
  let chorusLine = 0;
  let verseLine = 0;
  for (const region of plan.regions) {
    const kind = plan.kindAt(region.begin);
    const span = region.end - region.begin;
    const count = Math.max(1, Math.round(span / (BEATS_PER_LINE * beatMs)));
    for (let i = 0; i < count; i++) {
      const ls = region.begin + Math.round((i * span) / count);
      const le = region.begin + Math.round(((i + 1) * span) / count);
      // Choruses repeat: their n-th line is seeded by n alone, so equal-length choruses sing the same hook.
      const seedLabel = kind === "chorus" ? `chorus:${chorusLine++ % 8}` : `verse:${verseLine++}`;
      const r = rng(f.key, seedLabel);
      const breath = Math.min(Math.round(beatMs), Math.round((le - ls) * 0.2));
      const singable = le - ls - breath;
      const steps = Math.max(1, Math.round(singable / (beatMs / 2)));
      const lens = rhythm(r, steps);
      const degrees = melodyDegrees(r, lens.length, kind === "chorus" ? 4 : 2);
      const units = lyricUnits(r, language, lens.length);
      const words: Word[] = [];
      let step = 0;
      for (let n = 0; n < lens.length; n++) {
        const begin = ls + Math.round((step * singable) / steps);
        step += lens[n] as number;
        const end = ls + Math.round((step * singable) / steps);
        const pitch = degreeToMidi(key, degrees[n] as number);
        notes.push({ begin, duration: end - begin, pitch });
        const unit = units[n] as string;
        const text = language === "en" && n < lens.length - 1 ? `${unit} ` : unit;
        words.push({ begin, duration: end - begin, text });
      }
      if (!instrumental) {
        const last = words[words.length - 1] as Word;
        lines.push({
          begin: ls,
          end: last.begin + last.duration,
          text: joinUnits(language, units),
          words,
          kind,
        });
      }
    }
  }

  const progRng = rng(f.key, "chords");
  const verseProg = progRng.pick(PROGRESSIONS[mode]);
  const chorusProg = progRng.pick(PROGRESSIONS[mode]);
  const chords: ChordEvent[] = [];
  for (let b = 0; Math.round(b * barMs) < lengthMs; b++) {
    const begin = Math.round(b * barMs);
    const end = Math.min(lengthMs, Math.round((b + 1) * barMs));
    const prog = plan.kindAt(begin) === "chorus" ? chorusProg : verseProg;
    const degree = prog[b % prog.length] as number;
    chords.push({
      begin,
      duration: end - begin,
      degree,
      tones: triad(key, degree, 52),
      bass: bassRoot(key, degree, 36),
    });
  }

  return {
    song_id: f.item.song_id,
    lengthMs,
    bpm,
    beatMs,
    key,
    language,
    instrumental,
    sections: sectionsOf(plan.cutPoints, plan.kindAt),
    notes,
    lines,
    chords,
    preludeEndMs: notes[0]?.begin ?? plan.introEnd,
  };
}

/**
 * Everything a composition is made from, as a string: the memo key here and part of the CDN's content id
 * (ETag), so two songs share either only if they sound the same.
 */
export function compositionIdentity(f: SongFacts): string {
  const i = f.item;
  return JSON.stringify([
    f.key,
    i.song_id,
    i.song_name,
    i.duration,
    i.accompany_duration,
    f.bpm,
    f.intro_end,
    f.pure_music,
    f.clip,
    f.chorus.map((c) => [c.start, c.end]),
  ]);
}

// Compositions are small (a few thousand objects) but every lyric, pitch and download request needs one:
// keep the recently used ones.
const CACHE_LIMIT = 256;
const cache = new Map<string, Composition>();

/** The song's composition, memoized (same facts, same object). */
export function compositionOf(f: SongFacts): Composition {
  const id = compositionIdentity(f);
  const hit = cache.get(id);
  if (hit) {
    cache.delete(id);
    cache.set(id, hit);
    return hit;
  }
  const c = compose(f);
  cache.set(id, c);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  return c;
}
