import { createHash } from "node:crypto";
import type { SongFacts } from "../catalog/types.ts";
import type { Composition } from "../music/composition.ts";

// Header tags shared by LRC and KRC (spec §4: [id:][ar:][ti:][by:][hash:][al:][sign:][qq:][total:][offset:]) and
// the SDK's JSON fields derived from them. Tag values are strings, as a parser of the raw text would see them;
// `total` is an integer like the SDK's lyric model reads it.

export const LYRICS_BY = "ktv-harness";
export const LYRICS_TOOL = "ktv-harness simulator";
export const LYRICS_VERSION = "1.0";

export interface LyricTagFields {
  al: string;
  ar: string;
  au: string;
  by: string;
  offset: string;
  /** Length in ms (the SDK's key really is spelled "lenght"). */
  lenght: string;
  re: string;
  ti: string;
  ve: string;
  /** Length in ms. */
  total: number;
}

/** Tag values must not break the one-tag-per-line text: no brackets or line breaks inside. */
function clean(s: string): string {
  return s.replace(/[[\]\r\n]/g, " ").trim();
}

export function tagFields(f: SongFacts, c: Composition): LyricTagFields {
  return {
    al: clean(f.item.album_name),
    ar: clean(f.item.singer_name),
    au: clean(f.item.singer_name),
    by: LYRICS_BY,
    offset: "0",
    lenght: String(c.lengthMs),
    re: LYRICS_TOOL,
    ti: clean(f.item.song_name),
    ve: LYRICS_VERSION,
    total: c.lengthMs,
  };
}

/** The raw header lines, in the order of the vendor's server sample. */
export function headerLines(f: SongFacts, t: LyricTagFields): string[] {
  const id = (f.key >>> 0).toString(16).padStart(8, "0");
  const hash = createHash("md5").update(`${f.item.song_id}:${f.key}`).digest("hex");
  return [
    `[id:$${id}]`,
    `[ar:${t.ar}]`,
    `[ti:${t.ti}]`,
    `[by:${t.by}]`,
    `[hash:${hash}]`,
    `[al:${t.al}]`,
    "[sign:]",
    "[qq:]",
    `[total:${t.total}]`,
    `[offset:${t.offset}]`,
  ];
}

export const CRLF = "\r\n";

/** Parses `[key:value]` header lines of LRC or KRC text (used by tests and clients checking the raw text). */
export function parseTags(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(CRLF)) {
    const m = /^\[([a-z]+):(.*)\]$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}
