import type { SongFacts } from "../catalog/types.ts";
import type { Composition } from "../music/composition.ts";
import { INSTRUMENTAL_LINE } from "../music/words.ts";
import { CRLF, headerLines, type LyricTagFields, tagFields } from "./tags.ts";

// Line-timed lyrics (getLrcLyric): raw LRC text plus the SDK's JSON view of it, both from the composition's
// lyric lines, so a line starts exactly where its first sung note (and first KRC word) starts.

export interface LrcLine {
  begin_time: number;
  end_time: number;
  content: string;
}

export interface LrcDocument extends LyricTagFields {
  /** Raw LRC (CRLF-separated). */
  lyrics: string;
  /** The same raw LRC under the SDK's field name. */
  lrc_format: string;
  lines: LrcLine[];
}

/** `[mm:ss.xx]`: LRC's centisecond resolution (times are floored, never shown late). */
export function lrcTime(ms: number): string {
  const cs = Math.floor(ms / 10);
  const mm = Math.floor(cs / 6000);
  const ss = Math.floor((cs % 6000) / 100);
  const xx = cs % 100;
  return `[${String(mm).padStart(2, "0")}:${String(ss).padStart(2, "0")}.${String(xx).padStart(2, "0")}]`;
}

export function lrcLines(c: Composition): LrcLine[] {
  if (c.instrumental || c.lines.length === 0) {
    return [{ begin_time: 0, end_time: c.lengthMs, content: INSTRUMENTAL_LINE }];
  }
  return c.lines.map((l) => ({ begin_time: l.begin, end_time: l.end, content: l.text }));
}

export function buildLrc(f: SongFacts, c: Composition): LrcDocument {
  const tags = tagFields(f, c);
  const lines = lrcLines(c);
  const text = [...headerLines(f, tags), ...lines.map((l) => `${lrcTime(l.begin_time)}${l.content}`)].join(
    CRLF,
  );
  return { lyrics: text, lrc_format: text, lines, ...tags };
}

/** Parses timed lines of raw LRC back into (ms, text): what a karaoke client does with `lyrics`. */
export function parseLrcLines(text: string): { time: number; content: string }[] {
  const out: { time: number; content: string }[] = [];
  for (const line of text.split("\r\n")) {
    const m = /^\[(\d{2,}):(\d{2})\.(\d{2})\](.*)$/.exec(line);
    if (!m) continue;
    const time = (Number(m[1]) * 60 + Number(m[2])) * 1000 + Number(m[3]) * 10;
    out.push({ time, content: m[4] as string });
  }
  return out;
}
