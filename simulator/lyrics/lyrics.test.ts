import { describe, expect, it } from "vitest";
import { compose } from "../music/composition.ts";
import { fakeFacts } from "../music/facts-fixture.ts";
import { INSTRUMENTAL_LINE } from "../music/words.ts";
import { buildKrc, parseKrc } from "./krc.ts";
import { buildLrc, lrcTime, parseLrcLines } from "./lrc.ts";
import { pitchLine } from "./pitch-line.ts";
import { parseTags } from "./tags.ts";

const facts = fakeFacts();
const comp = compose(facts);

describe("LRC", () => {
  const doc = buildLrc(facts, comp);

  it("formats [mm:ss.xx], floored to centiseconds", () => {
    expect(lrcTime(0)).toBe("[00:00.00]");
    expect(lrcTime(61_239)).toBe("[01:01.23]");
    expect(lrcTime(600_000)).toBe("[10:00.00]");
  });

  it("has the vendor's header tags in order, CRLF lines, and the tags in JSON too", () => {
    const head = doc.lyrics
      .split("\r\n")
      .slice(0, 10)
      .map((l) => /^\[([a-z]+):/.exec(l)?.[1]);
    expect(head).toEqual(["id", "ar", "ti", "by", "hash", "al", "sign", "qq", "total", "offset"]);
    expect(doc.lyrics.includes("\n") && !/[^\r]\n/.test(doc.lyrics)).toBe(true);
    const tags = parseTags(doc.lyrics);
    expect(tags.ti).toBe(facts.item.song_name);
    expect(tags.ar).toBe(facts.item.singer_name);
    expect(Number(tags.total)).toBe(comp.lengthMs);
    expect(tags.offset).toBe("0");
    expect(doc).toMatchObject({
      ti: tags.ti,
      ar: tags.ar,
      al: tags.al,
      total: comp.lengthMs,
      lenght: String(comp.lengthMs),
    });
    expect(doc.lrc_format).toBe(doc.lyrics);
  });

  it("parses back to the JSON lines (times within LRC's 10 ms resolution)", () => {
    const parsed = parseLrcLines(doc.lyrics);
    expect(parsed.length).toBe(doc.lines.length);
    expect(doc.lines.length).toBe(comp.lines.length);
    parsed.forEach((p, i) => {
      const l = doc.lines[i]!;
      expect(p.content).toBe(l.content);
      expect(l.begin_time - p.time).toBeGreaterThanOrEqual(0);
      expect(l.begin_time - p.time).toBeLessThan(10);
      expect(l.end_time).toBeGreaterThan(l.begin_time);
    });
  });

  it("gives pure music the one line karaoke apps show", () => {
    const pure = fakeFacts({ pure_music: true, has_krc: false, has_pitch: false });
    const d = buildLrc(pure, compose(pure));
    expect(d.lines).toEqual([
      { begin_time: 0, end_time: compose(pure).lengthMs, content: INSTRUMENTAL_LINE },
    ]);
  });
});

describe("KRC", () => {
  const doc = buildKrc(facts, comp);

  it("parses back to exactly its JSON lines and words", () => {
    expect(parseKrc(doc.lyrics)).toEqual(doc.lines);
    expect(doc.krc_format).toBe(doc.lyrics);
    expect(doc.krc_format_offset).toBe(0);
  });

  it("has word times equal to note times, and the same lines as the LRC", () => {
    const notes = comp.notes;
    const words = doc.lines.flatMap((l) =>
      l.words.map((w) => ({ begin: l.begin_time + w.offset, duration: w.duration })),
    );
    expect(words).toEqual(notes.map((n) => ({ begin: n.begin, duration: n.duration })));
    const lrc = buildLrc(facts, comp);
    expect(doc.lines.map((l) => [l.begin_time, l.begin_time + l.duration, l.content])).toEqual(
      lrc.lines.map((l) => [l.begin_time, l.end_time, l.content]),
    );
  });

  it("round-trips English words with their spaces", () => {
    const en = fakeFacts({ name: "Neon Heart" });
    const d = buildKrc(en, compose(en));
    expect(parseKrc(d.lyrics)).toEqual(d.lines);
    expect(d.lines[0]?.content).toMatch(/^[a-z]+( [a-z]+)+$/);
  });
});

describe("pitch line", () => {
  it("is the melody, relative to the span, clipped at its edges", () => {
    const whole = pitchLine(comp, { begin: 0, end: comp.lengthMs });
    expect(whole).toEqual(
      comp.notes.map((n) => ({ begin_time: n.begin, duration: n.duration, value: n.pitch })),
    );
    const span = { begin: facts.clip.segment_begin, end: facts.clip.segment_end };
    const clip = pitchLine(comp, span);
    // The clip's first note is sung right after its prelude.
    expect(clip[0]?.begin_time).toBe(facts.clip.prelude_duration);
    for (const p of clip) {
      expect(p.begin_time).toBeGreaterThanOrEqual(0);
      expect(p.begin_time + p.duration).toBeLessThanOrEqual(span.end - span.begin);
      expect(p.value).toBeGreaterThanOrEqual(10);
      expect(p.value).toBeLessThanOrEqual(90);
    }
    const inside = comp.notes.filter((n) => n.begin >= span.begin && n.begin + n.duration <= span.end);
    expect(clip.length).toBeGreaterThanOrEqual(inside.length);
  });
});
