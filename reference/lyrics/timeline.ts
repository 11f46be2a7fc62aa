// A song's lyric lines as a timeline a follower can walk without allocating: line begin times (ms of the
// song, the vendor's `begin_time`) in one sorted Int32Array. Built once per song from the SDK's lyric result
// (getLrcLyric: lines[{begin_time, end_time, content}]; getKrcLyricByToken: lines[{begin_time, duration,
// content, words}], spec §4); the line texts are kept for whoever displays them, but following needs only the
// begin times.

export type LyricKind = "lrc" | "krc";

export interface LyricTimeline {
  kind: LyricKind;
  /** Begin of each line, ms of the full song, ascending (ties kept in the vendor's order). */
  readonly begins: Int32Array;
  readonly texts: readonly string[];
  /** KRC `krc_format_offset`: ms the lyric leads the audio (0 for LRC and for this simulator's lyrics). */
  offsetMs: number;
}

export class LyricParseError extends Error {
  override name = "LyricParseError";
}

/**
 * Parses the `lyrics` JSON string of a LyricResult. Throws LyricParseError naming what is wrong (not JSON, no
 * `lines` list, a line without a finite non-negative begin_time), never returns a half-read timeline.
 */
export function parseLyricTimeline(kind: LyricKind, json: string): LyricTimeline {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new LyricParseError(`${kind} lyrics: not JSON`);
  }
  const lines = (doc as { lines?: unknown } | null)?.lines;
  if (!Array.isArray(lines)) throw new LyricParseError(`${kind} lyrics: no "lines" list`);
  const order = lines.map((l: unknown, i: number) => {
    const begin = (l as { begin_time?: unknown } | null)?.begin_time;
    if (typeof begin !== "number" || !Number.isFinite(begin) || begin < 0) {
      throw new LyricParseError(`${kind} lyrics: lines[${i}].begin_time must be a non-negative number`);
    }
    const content = (l as { content?: unknown }).content;
    return { begin: Math.round(begin), text: typeof content === "string" ? content : "", i };
  });
  // Sorted once here so the follower's walk is a single forward pointer (stable: equal begins keep order).
  order.sort((a, b) => a.begin - b.begin || a.i - b.i);
  const off = kind === "krc" ? (doc as { krc_format_offset?: unknown }).krc_format_offset : 0;
  return {
    kind,
    begins: Int32Array.from(order, (l) => l.begin),
    texts: order.map((l) => l.text),
    offsetMs: typeof off === "number" && Number.isFinite(off) ? Math.round(off) : 0,
  };
}
