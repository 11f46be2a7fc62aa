import { TIER_FORMAT } from "../../protocol/audio-tiers.ts";
import type { Quality } from "../../protocol/enums.ts";
import { WAV_HEADER_BYTES } from "../../protocol/wav.ts";

export { TIER_FORMAT, type TierFormat } from "../../protocol/audio-tiers.ts";

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
