import type { Quality } from "../../protocol/enums.ts";
import { WAV_HEADER_BYTES } from "../../protocol/wav.ts";

// Audio files are WAV PCM s16le whose bitrate equals the quality tier's real bitrate, so the CDN's byte counts
// (and so bandwidth figures in capacity plans) are realistic: 8 kHz mono = 128 kb/s (normal), 10 kHz stereo =
// 320 kb/s (hq), 44.1 kHz stereo = 1,411 kb/s (sq). A dual-track accompaniment carries the original vocal as a
// second track: channels = tier channels x 2 (accompaniment channels first, then original channels).
export interface TierFormat {
  sampleRate: number;
  channels: number;
}

export const TIER_FORMAT: Record<Quality, TierFormat> = {
  0: { sampleRate: 8000, channels: 1 },
  1: { sampleRate: 10000, channels: 2 },
  2: { sampleRate: 44100, channels: 2 },
};

export { WAV_HEADER_BYTES } from "../../protocol/wav.ts";

export interface AudioLayout {
  sampleRate: number;
  /** Total interleaved channels in the file (tier channels x tracks). */
  channels: number;
  /** 1, or 2 for dual-track accompaniment. */
  tracks: 1 | 2;
  /** Sample frames in the file. */
  frames: number;
  dataBytes: number;
  /** File size in bytes, header included. */
  size: number;
  /** Play length in ms. */
  durationMs: number;
}

export function audioLayout(quality: Quality, durationMs: number, tracks: 1 | 2): AudioLayout {
  const tier = TIER_FORMAT[quality];
  const channels = tier.channels * tracks;
  const frames = Math.round((durationMs * tier.sampleRate) / 1000);
  const dataBytes = frames * channels * 2;
  return {
    sampleRate: tier.sampleRate,
    channels,
    tracks,
    frames,
    dataBytes,
    size: WAV_HEADER_BYTES + dataBytes,
    durationMs,
  };
}
