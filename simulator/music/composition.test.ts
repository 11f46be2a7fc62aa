import { describe, expect, it } from "vitest";
import { createCatalog } from "../catalog/index.ts";
import { compose, compositionOf } from "./composition.ts";
import { fakeFacts } from "./facts-fixture.ts";

describe("compose", () => {
  it("is deterministic: the same facts give the same composition, another key another melody", () => {
    const f = fakeFacts();
    expect(compose(f)).toEqual(compose(fakeFacts()));
    const other = compose(fakeFacts({ key: 0x77 }));
    expect(other.notes.map((n) => n.pitch)).not.toEqual(compose(f).notes.map((n) => n.pitch));
  });

  it("memoizes per song", () => {
    const f = fakeFacts();
    expect(compositionOf(f)).toBe(compositionOf(f));
  });

  it("sings nothing in the intro, nothing in the clip's prelude, and starts singing exactly after both", () => {
    const f = fakeFacts();
    const c = compose(f);
    const vocalStart = f.clip.segment_begin + f.clip.prelude_duration;
    expect(c.notes[0]?.begin).toBe(f.intro_end);
    expect(c.preludeEndMs).toBe(f.intro_end);
    expect(c.notes.some((n) => n.begin === vocalStart)).toBe(true);
    const inPrelude = c.notes.filter(
      (n) => n.begin + n.duration > f.clip.segment_begin && n.begin < vocalStart,
    );
    expect(inPrelude).toEqual([]);
    expect(c.sections.find((s) => s.begin === f.clip.segment_begin)?.kind).toBe("interlude");
  });

  it("starts a chorus line at every chorus start and labels it chorus", () => {
    const f = fakeFacts();
    const c = compose(f);
    for (const ch of f.chorus) {
      const line = c.lines.find((l) => l.begin === ch.start);
      expect(line?.kind).toBe("chorus");
    }
  });

  it("writes English lyrics for Latin titles, one word per note", () => {
    const c = compose(fakeFacts({ name: "Midnight Rain" }));
    expect(c.language).toBe("en");
    const line = c.lines[0]!;
    expect(line.text.split(" ").length).toBe(line.words.length);
  });

  it("has no sung lines for pure music but keeps a melody for the lead instrument", () => {
    const c = compose(fakeFacts({ pure_music: true, has_krc: false, has_pitch: false }));
    expect(c.instrumental).toBe(true);
    expect(c.lines).toEqual([]);
    expect(c.notes.length).toBeGreaterThan(20);
  });

  it("holds its invariants for every song of a seeded catalog", () => {
    const catalog = createCatalog(7, 2000);
    // Violations are collected rather than asserted one by one: thousands of expect() calls are slow.
    const bad: string[] = [];
    const check = (ok: boolean, what: string) => {
      if (!ok && bad.length < 20) bad.push(what);
    };
    let checked = 0;
    for (let i = 0; i < catalog.size; i += 5) {
      const f = catalog.at(i);
      const c = compose(f);
      const id = f.item.song_id;
      checked++;
      // Notes: sorted, non-overlapping, integer ms, inside the song, singable MIDI values within 10..90.
      let prevEnd = 0;
      for (const n of c.notes) {
        check(
          Number.isInteger(n.begin) && Number.isInteger(n.duration) && n.duration > 0,
          `${id} note ${n.begin}`,
        );
        check(n.begin >= prevEnd, `${id} overlap at ${n.begin}`);
        check(n.pitch >= 10 && n.pitch <= 90, `${id} pitch ${n.pitch}`);
        prevEnd = n.begin + n.duration;
      }
      check(prevEnd <= c.lengthMs, `${id} sings past the end`);
      // Sections tile the song.
      check(c.sections[0]?.begin === 0 && c.sections.at(-1)?.end === c.lengthMs, `${id} sections`);
      for (let s = 1; s < c.sections.length; s++) {
        check(c.sections[s]?.begin === c.sections[s - 1]?.end, `${id} section gap`);
      }
      if (f.pure_music) continue;
      // First vocal = intro end (get_prelude_end_time), and the long clip's vocals start after its prelude.
      check(c.notes[0]?.begin === f.intro_end, `${id} first note ${c.notes[0]?.begin} != ${f.intro_end}`);
      const clipVocal = f.clip.segment_begin + f.clip.prelude_duration;
      check(
        c.notes.some((n) => n.begin === clipVocal),
        `${id} no note at clip vocal start ${clipVocal}`,
      );
      // Words are the notes, one to one, and lines read as their words.
      const words = c.lines.flatMap((l) => l.words);
      check(words.length === c.notes.length, `${id} words ${words.length} != notes ${c.notes.length}`);
      words.forEach((w, k) => {
        const n = c.notes[k];
        check(n !== undefined && w.begin === n.begin && w.duration === n.duration, `${id} word ${k}`);
      });
      for (const l of c.lines) {
        check(
          l.words.map((w) => w.text).join("") === l.text && l.begin === l.words[0]?.begin,
          `${id} line ${l.begin}`,
        );
      }
    }
    expect(bad).toEqual([]);
    expect(checked).toBe(400);
  });
});
