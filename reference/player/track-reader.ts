import { TIER_FORMAT } from "../../protocol/audio-tiers.ts";
import { QUALITY_NAMES, type Quality, type QualityName } from "../../protocol/enums.ts";
import type { PcmReader } from "../mixer/source.ts";

// Dual-track accompaniment files interleave the accompaniment's channels, then the original's, in every frame
// (the CDN's layout: tier channels x tracks). This reader hands the resampler one track's channels, chosen by
// a field, so switching track (setAudioTrackIndex) is a field write: no reallocation, no glitch beyond the
// ~10 ms of input the resampler already holds.
//
// It reads the file in large blocks (default 16,384 frames: 2 s at 8 kHz, 0.37 s at 44.1 kHz) while the
// resampler asks for ~10 ms at a time: one read syscall per block instead of one per mixer frame, which
// matters when hundreds of clients play at once.

/** Channels per track of a CDN quality tier: normal is 8 kHz mono, hq 10 kHz and sq 44.1 kHz stereo. */
export function channelsPerTrack(quality: QualityName): number {
  return TIER_FORMAT[QUALITY_NAMES.indexOf(quality) as Quality].channels;
}

export interface TrackLayout {
  tracks: number;
  channelsPerTrack: number;
}

/** Tracks in a file of `channels` channels at this tier; a layout that does not fit is played as one track. */
export function trackLayout(channels: number, quality: "normal" | "hq" | "sq"): TrackLayout {
  const per = channelsPerTrack(quality);
  const tracks = channels / per;
  if (Number.isInteger(tracks) && tracks >= 1 && tracks <= 2) return { tracks, channelsPerTrack: per };
  return { tracks: 1, channelsPerTrack: channels };
}

export const DEFAULT_BLOCK_FRAMES = 16_384;

/** A whole file's frames (all tracks interleaved): a WavFileReader, or a WavBytesReader over memory. */
export type TrackInput = PcmReader;

export class TrackReader implements PcmReader {
  readonly sampleRate: number;
  readonly channels: number;
  readonly blockFrames: number;
  private trackIndex = 0;
  private readonly block: Int16Array;
  /** Frames in the block, and the next one to hand out. */
  private blockLen = 0;
  private blockPos = 0;

  /** `wav` must have been opened with a buffer of at least `blockFrames` frames. */
  constructor(
    private readonly wav: TrackInput,
    readonly layout: TrackLayout,
    blockFrames = DEFAULT_BLOCK_FRAMES,
  ) {
    if (layout.tracks * layout.channelsPerTrack !== wav.channels) {
      throw new RangeError(`track layout ${JSON.stringify(layout)} does not fit ${wav.channels} channels`);
    }
    this.sampleRate = wav.sampleRate;
    this.channels = layout.channelsPerTrack;
    this.blockFrames = blockFrames;
    this.block = new Int16Array(blockFrames * wav.channels);
  }

  get track(): number {
    return this.trackIndex;
  }

  set track(index: number) {
    if (!Number.isInteger(index) || index < 0 || index >= this.layout.tracks) {
      throw new RangeError(`track ${index} outside 0..${this.layout.tracks - 1}`);
    }
    this.trackIndex = index;
  }

  /** Frames of the current block not handed out yet (read from the file, not yet by the resampler). */
  get buffered(): number {
    return this.blockLen - this.blockPos;
  }

  /** Forgets the buffered block: call after seeking the file. */
  reset(): void {
    this.blockLen = 0;
    this.blockPos = 0;
  }

  read(out: Int16Array, maxFrames: number): number {
    if (this.blockPos >= this.blockLen) {
      this.blockLen = this.wav.read(this.block, this.blockFrames);
      this.blockPos = 0;
      if (this.blockLen === 0) return 0;
    }
    const ch = this.channels;
    const all = this.wav.channels;
    const n = Math.min(maxFrames, this.blockLen - this.blockPos, (out.length / ch) | 0);
    const src = this.block;
    let s = this.blockPos * all + this.trackIndex * ch;
    let d = 0;
    for (let f = 0; f < n; f++) {
      for (let c = 0; c < ch; c++) out[d + c] = src[s + c]!;
      s += all;
      d += ch;
    }
    this.blockPos += n;
    return n;
  }
}
