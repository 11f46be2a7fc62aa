import type { Quality } from "./enums.ts";

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
