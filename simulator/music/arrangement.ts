import type { Composition, SectionKind } from "./composition.ts";
import { midiToHz } from "./theory.ts";
import { BASS_TABLE, type DrumKit, drumKit, LEAD_TABLE, PAD_TABLE, VOICE_TABLE } from "./wavetable.ts";

// A composition laid out in sample frames at one sample rate: per instrument, events sorted by start with
// their integer phase increments. Built once per (song, rate) so rendering any range is a binary search plus
// table reads; nothing depends on having rendered earlier samples (random access for HTTP Range).

/** Tonal events of one instrument; parallel arrays, sorted by start frame. */
export interface ToneEvents {
  table: Float32Array;
  start: Int32Array;
  len: Int32Array;
  /** Phase increment per frame, a uint32 held exactly in a double. */
  inc: Float64Array;
  gain: Float32Array;
  count: number;
  /** Longest event, bounding how far back a range must look for events still sounding. */
  maxLen: number;
  attackFrames: number;
  releaseFrames: number;
  panL: number;
  panR: number;
}

export interface DrumEvents {
  start: Int32Array;
  /** 0 kick, 1 snare, 2 hat */
  kind: Uint8Array;
  gain: Float32Array;
  count: number;
  maxLen: number;
  kit: DrumKit;
  pans: readonly (readonly [number, number])[];
}

export interface Arrangement {
  sampleRate: number;
  /** Frames of the whole song. */
  frames: number;
  /** Instruments of the accompaniment (stereo-panned). */
  band: ToneEvents[];
  drums: DrumEvents;
  /** The sung melody (centre), present only in original tracks. */
  vocal: ToneEvents;
}

// Peak gains. Within an instrument events never overlap except the three pad voices, so the accompaniment's
// worst case is 3x0.075 + 0.15 + 0.07 + 0.18 + 0.09 + 0.035 = 0.75 and with the voice 0.95: never clips.
const GAIN = {
  pad: 0.075,
  bass: 0.15,
  lead: 0.07,
  leadSolo: 0.16,
  vocal: 0.2,
  kick: 0.18,
  snare: 0.09,
  hat: 0.035,
};
const SECTION_LEVEL: Record<SectionKind, number> = {
  intro: 0.8,
  verse: 0.85,
  chorus: 1,
  interlude: 0.9,
  outro: 0.75,
};

interface RawTone {
  begin: number;
  duration: number;
  midi: number;
  gain: number;
}

const toFrame = (ms: number, rate: number) => Math.round((ms * rate) / 1000);

function toneEvents(
  raw: RawTone[],
  rate: number,
  table: Float32Array,
  envelopeMs: { attack: number; release: number },
  pan: [number, number],
): ToneEvents {
  raw.sort((a, b) => a.begin - b.begin);
  const n = raw.length;
  const ev: ToneEvents = {
    table,
    start: new Int32Array(n),
    len: new Int32Array(n),
    inc: new Float64Array(n),
    gain: new Float32Array(n),
    count: n,
    maxLen: 0,
    attackFrames: Math.max(1, toFrame(envelopeMs.attack, rate)),
    releaseFrames: Math.max(1, toFrame(envelopeMs.release, rate)),
    panL: pan[0],
    panR: pan[1],
  };
  raw.forEach((t, i) => {
    const s = toFrame(t.begin, rate);
    const len = toFrame(t.begin + t.duration, rate) - s;
    ev.start[i] = s;
    ev.len[i] = len;
    ev.inc[i] = Math.round((midiToHz(t.midi) / rate) * 4294967296) >>> 0;
    ev.gain[i] = t.gain;
    ev.maxLen = Math.max(ev.maxLen, len);
  });
  return ev;
}

function sectionLevel(c: Composition, t: number): number {
  const s = c.sections.find((x) => t >= x.begin && t < x.end);
  return SECTION_LEVEL[s?.kind ?? "verse"];
}

function sectionKind(c: Composition, t: number): SectionKind {
  return c.sections.find((x) => t >= x.begin && t < x.end)?.kind ?? "verse";
}

function drumEvents(c: Composition, rate: number): DrumEvents {
  const hits: { start: number; kind: number; gain: number }[] = [];
  const half = c.beatMs / 2;
  for (let i = 0; Math.round(i * half) < c.lengthMs; i++) {
    const t = Math.round(i * half);
    const beat = Math.floor(i / 2) % 4;
    const onBeat = i % 2 === 0;
    const kind = sectionKind(c, t);
    const level = SECTION_LEVEL[kind];
    if (kind === "verse" || kind === "chorus" || kind === "interlude") {
      const kick = onBeat ? beat === 0 || beat === 2 : kind === "chorus" && beat === 2;
      if (kick) hits.push({ start: t, kind: 0, gain: GAIN.kick * level });
      if (onBeat && (beat === 1 || beat === 3) && kind !== "interlude") {
        hits.push({ start: t, kind: 1, gain: GAIN.snare * level });
      }
      hits.push({ start: t, kind: 2, gain: GAIN.hat * level * (onBeat ? 1 : 0.7) });
    } else if (onBeat) {
      hits.push({ start: t, kind: 2, gain: GAIN.hat * level });
    }
  }
  const kit = drumKit(rate);
  const n = hits.length;
  const d: DrumEvents = {
    start: new Int32Array(n),
    kind: new Uint8Array(n),
    gain: new Float32Array(n),
    count: n,
    maxLen: Math.max(kit.kick.length, kit.snare.length, kit.hat.length),
    kit,
    pans: [
      [1, 1],
      [0.9, 1],
      [0.6, 1],
    ],
  };
  hits.forEach((h, i) => {
    d.start[i] = toFrame(h.start, rate);
    d.kind[i] = h.kind;
    d.gain[i] = h.gain;
  });
  return d;
}

function arrange(c: Composition, rate: number): Arrangement {
  const pad: RawTone[] = [];
  const bass: RawTone[] = [];
  for (const ch of c.chords) {
    const level = sectionLevel(c, ch.begin);
    for (const m of ch.tones)
      pad.push({ begin: ch.begin, duration: ch.duration, midi: m, gain: GAIN.pad * level });
    // Root for the first half of the bar, the fifth (or octave when the fifth would leave the register) after.
    const half = Math.round(ch.duration / 2);
    bass.push({ begin: ch.begin, duration: half, midi: ch.bass, gain: GAIN.bass * level });
    const second = ch.bass + 7 <= 47 ? ch.bass + 7 : ch.bass - 5;
    bass.push({
      begin: ch.begin + half,
      duration: ch.duration - half,
      midi: second,
      gain: GAIN.bass * level,
    });
  }
  const leadGain = c.instrumental ? GAIN.leadSolo : GAIN.lead;
  const lead = c.notes.map((n) => ({ begin: n.begin, duration: n.duration, midi: n.pitch, gain: leadGain }));
  const sung = c.instrumental ? [] : c.notes.map((n) => ({ ...n, midi: n.pitch, gain: GAIN.vocal }));
  return {
    sampleRate: rate,
    frames: toFrame(c.lengthMs, rate),
    band: [
      toneEvents(pad, rate, PAD_TABLE, { attack: 30, release: 60 }, [1, 0.8]),
      toneEvents(bass, rate, BASS_TABLE, { attack: 8, release: 40 }, [1, 1]),
      toneEvents(lead, rate, LEAD_TABLE, { attack: 15, release: 30 }, [0.7, 1]),
    ],
    drums: drumEvents(c, rate),
    vocal: toneEvents(sung, rate, VOICE_TABLE, { attack: 20, release: 35 }, [1, 1]),
  };
}

const arrangements = new WeakMap<Composition, Map<number, Arrangement>>();

/** The composition's arrangement at a sample rate, memoized per composition object. */
export function arrangementOf(c: Composition, sampleRate: number): Arrangement {
  let byRate = arrangements.get(c);
  if (!byRate) {
    byRate = new Map();
    arrangements.set(c, byRate);
  }
  let a = byRate.get(sampleRate);
  if (!a) {
    a = arrange(c, sampleRate);
    byRate.set(sampleRate, a);
  }
  return a;
}
