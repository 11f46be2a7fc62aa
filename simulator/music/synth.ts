import { endianness } from "node:os";
import { type Arrangement, arrangementOf, type DrumEvents, type ToneEvents } from "./arrangement.ts";
import type { Composition } from "./composition.ts";
import { PHASE_SHIFT } from "./wavetable.ts";

// PCM s16le for any frame range of a song at any rate, computed straight from the arrangement: the value of a
// frame depends only on its index, so rendering [a, b) in one call or in many chunks yields identical bytes,
// which is what makes HTTP Range resumes byte-exact.

/** What one track of the file carries: the band alone, or the band plus the sung melody. */
export type TrackKind = "accompaniment" | "original";

export interface RenderSpec {
  composition: Composition;
  sampleRate: number;
  /** Channels per track: 1 (mono, down-mixed) or 2 (stereo). */
  channelsPerTrack: 1 | 2;
  /** Tracks in frame order, e.g. ["accompaniment", "original"] for a dual-track accompaniment. */
  tracks: readonly TrackKind[];
  /** Song frame of the file's frame 0 (a clip starts mid-song). */
  firstSongFrame: number;
}

const TWO32 = 4294967296;
const LITTLE_ENDIAN = endianness() === "LE";

// Scratch mix buses reused across calls: rendering is synchronous, so one set per process is enough.
let busL = new Float32Array(0);
let busR = new Float32Array(0);
let busV = new Float32Array(0);

function ensureBuses(frames: number): void {
  if (busL.length >= frames) return;
  busL = new Float32Array(frames);
  busR = new Float32Array(frames);
  busV = new Float32Array(frames);
}

/** First event index whose start is >= from (events sorted by start). */
function lowerBound(start: Int32Array, count: number, from: number): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((start[mid] as number) < from) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Adds one note's frames [k0, k1) (k counted from the note's start) at bus index x0 on. The envelope,
 * min(1, k/attack, (len-k)/release), is evaluated in three runs so the long sustained middle is a plain
 * table read; which run a k falls in depends only on the note, so values do not depend on chunking.
 */
function addSpan(
  ev: ToneEvents,
  i: number,
  k0: number,
  k1: number,
  x0: number,
  left: Float32Array,
  right: Float32Array | null,
): void {
  const table = ev.table;
  const l = ev.len[i] as number;
  const step = ev.inc[i] as number;
  const g = ev.gain[i] as number;
  const invA = 1 / ev.attackFrames;
  const invR = 1 / ev.releaseFrames;
  const gl = right ? g * ev.panL : g;
  const gr = g * ev.panR;
  const b1 = Math.min(Math.max(ev.attackFrames, k0), k1);
  const b2 = Math.min(Math.max(l - ev.releaseFrames, b1), k1);
  // Exact: k < 2^21 and step < 2^32, so the product is an integer below 2^53.
  let phase = (k0 * step) % TWO32;
  let x = x0;
  for (let run = 0; run < 3; run++) {
    const from = run === 0 ? k0 : run === 1 ? b1 : b2;
    const to = run === 0 ? b1 : run === 1 ? b2 : k1;
    const flat = run === 1;
    for (let k = from; k < to; k++, x++) {
      const env = flat ? 1 : Math.min(1, k * invA, (l - k) * invR);
      const v = (table[phase >>> PHASE_SHIFT] as number) * env;
      left[x] = (left[x] as number) + v * gl;
      if (right) right[x] = (right[x] as number) + v * gr;
      phase = (phase + step) >>> 0;
    }
  }
}

/** Adds every event of `ev` sounding in [f0, f1) to the buses (left/right, or only `left` when mono). */
function addTones(
  ev: ToneEvents,
  f0: number,
  f1: number,
  left: Float32Array,
  right: Float32Array | null,
): void {
  const { start, len } = ev;
  for (let i = lowerBound(start, ev.count, f0 - ev.maxLen); i < ev.count; i++) {
    const s = start[i] as number;
    if (s >= f1) break;
    const from = Math.max(s, f0);
    const to = Math.min(s + (len[i] as number), f1);
    if (to > from) addSpan(ev, i, from - s, to - s, from - f0, left, right);
  }
}

function addDrums(
  d: DrumEvents,
  f0: number,
  f1: number,
  left: Float32Array,
  right: Float32Array | null,
): void {
  const tables = [d.kit.kick, d.kit.snare, d.kit.hat];
  for (let i = lowerBound(d.start, d.count, f0 - d.maxLen); i < d.count; i++) {
    const s = d.start[i] as number;
    if (s >= f1) break;
    const kind = d.kind[i] as number;
    const table = tables[kind] as Float32Array;
    const from = Math.max(s, f0);
    const to = Math.min(s + table.length, f1);
    if (to <= from) continue;
    const g = d.gain[i] as number;
    const pan = d.pans[kind] as readonly [number, number];
    const panL = right ? pan[0] : 1;
    for (let x = from; x < to; x++) {
      const v = (table[x - s] as number) * g;
      left[x - f0] = (left[x - f0] as number) + v * panL;
      if (right) right[x - f0] = (right[x - f0] as number) + v * pan[1];
    }
  }
}

/** Bytes per frame of a spec's output. */
export function frameBytes(spec: RenderSpec): number {
  return spec.channelsPerTrack * spec.tracks.length * 2;
}

/**
 * Renders file frames [frame, frame + count) as interleaved PCM s16le into `out` at byte `offset`
 * (needs count x frameBytes bytes). Frames past the end of the song are silence.
 */
export function renderPcm(spec: RenderSpec, frame: number, count: number, out: Buffer, offset = 0): void {
  const fb = frameBytes(spec);
  if (out.length - offset < count * fb) throw new RangeError("renderPcm: output buffer too small");
  // Blocks keep the mix buses cache-sized; a block's samples do not depend on where blocks start.
  for (let done = 0; done < count; done += BLOCK_FRAMES) {
    renderBlock(spec, frame + done, Math.min(BLOCK_FRAMES, count - done), out, offset + done * fb);
  }
}

const BLOCK_FRAMES = 16384;

function renderBlock(spec: RenderSpec, frame: number, count: number, out: Buffer, offset: number): void {
  const fb = frameBytes(spec);
  const arr: Arrangement = arrangementOf(spec.composition, spec.sampleRate);
  const f0 = spec.firstSongFrame + frame;
  const f1 = f0 + count;
  const stereo = spec.channelsPerTrack === 2;
  ensureBuses(count);
  busL.fill(0, 0, count);
  busR.fill(0, 0, count);
  busV.fill(0, 0, count);
  // Mono tracks mix the band straight into one bus with pan 1 (the down-mix of a centred image).
  const right = stereo ? busR : null;
  for (const ev of arr.band) addTones(ev, f0, f1, busL, right);
  addDrums(arr.drums, f0, f1, busL, right);
  const wantsVocal = spec.tracks.includes("original");
  if (wantsVocal) addTones(arr.vocal, f0, f1, busV, null);

  const channels = spec.channelsPerTrack * spec.tracks.length;
  // An aligned Int16Array view writes samples directly; otherwise go through a DataView.
  const aligned = LITTLE_ENDIAN && (out.byteOffset + offset) % 2 === 0;
  const pcm = aligned ? new Int16Array(out.buffer, out.byteOffset + offset, count * channels) : null;
  const view = aligned ? null : new DataView(out.buffer, out.byteOffset + offset, count * fb);
  let c = 0;
  for (const track of spec.tracks) {
    const voc = track === "original";
    for (let ch = 0; ch < spec.channelsPerTrack; ch++, c++) {
      const bus = ch === 0 ? busL : busR;
      for (let x = 0; x < count; x++) {
        const v = (bus[x] as number) + (voc ? (busV[x] as number) : 0);
        const s = Math.round(v * 32767);
        if (pcm) pcm[x * channels + c] = s;
        else view!.setInt16((x * channels + c) * 2, s, true);
      }
    }
  }
}
