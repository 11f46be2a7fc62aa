import type { SongFacts } from "../catalog/types.ts";
import type { Composition } from "../music/composition.ts";
import { CRLF, headerLines, type LyricTagFields, tagFields } from "./tags.ts";

// Word-timed lyrics (getKrcLyricByToken), Kugou style: `[lineBegin,lineDuration]<wordOffset,wordDuration,0>word`
// with word offsets from the line start. Every word is one note of the melody, so word times are note times
// and the pitch line, the audio and these lyrics agree to the millisecond.

export interface KrcWord {
  offset: number;
  duration: number;
  word: string;
}

export interface KrcLine {
  begin_time: number;
  duration: number;
  content: string;
  words: KrcWord[];
}

export interface KrcDocument extends LyricTagFields {
  lyrics: string;
  krc_format: string;
  /** How far the lyric leads the audio, ms (UI components shift by it); our lyrics are exact: 0. */
  krc_format_offset: number;
  lines: KrcLine[];
}

/**
 * Whether a song has word-timed lyrics, i.e. whether a krc_token for it can ever open a KRC. The resource
 * routes issue a krc_token only then (wire-api: "`krc_token` where the vendor has one"), so a result that
 * carries a token always leads to lyrics, and a result without one tells the app there are none to fetch.
 */
export function hasWordTimedLyrics(f: Pick<SongFacts, "has_krc" | "pure_music">): boolean {
  return f.has_krc && !f.pure_music;
}

export function krcLines(c: Composition): KrcLine[] {
  return c.lines.map((l) => ({
    begin_time: l.begin,
    duration: l.end - l.begin,
    content: l.text,
    words: l.words.map((w) => ({ offset: w.begin - l.begin, duration: w.duration, word: w.text })),
  }));
}

export function krcLineText(l: KrcLine): string {
  return `[${l.begin_time},${l.duration}]${l.words.map((w) => `<${w.offset},${w.duration},0>${w.word}`).join("")}`;
}

export function buildKrc(f: SongFacts, c: Composition): KrcDocument {
  const tags = tagFields(f, c);
  const lines = krcLines(c);
  const text = [...headerLines(f, tags), ...lines.map(krcLineText)].join(CRLF);
  return { lyrics: text, krc_format: text, krc_format_offset: 0, lines, ...tags };
}

/** Parses raw KRC back into lines and words (tests; clients that only keep the raw text). */
export function parseKrc(text: string): KrcLine[] {
  const out: KrcLine[] = [];
  for (const raw of text.split("\r\n")) {
    const m = /^\[(\d+),(\d+)\](.*)$/.exec(raw);
    if (!m) continue;
    const words: KrcWord[] = [];
    // A word's text runs to the next '<' (word text never contains one).
    for (const w of (m[3] as string).matchAll(/<(\d+),(\d+),\d+>([^<]*)/g)) {
      words.push({ offset: Number(w[1]), duration: Number(w[2]), word: w[3] as string });
    }
    out.push({
      begin_time: Number(m[1]),
      duration: Number(m[2]),
      content: words.map((w) => w.word).join(""),
      words,
    });
  }
  return out;
}
