// What the published stream looks like on the wire, per codec. The spec (wire-api.md "Media server") only says
// frames carry "PCM s16le (Opus optional later)" and is silent on bitrate, so the Opus settings follow ZEGO's
// own documentation for online KTV:
// - bitrate: the online-KTV solution's "K歌场景音频配置" step (doc-zh.zego.im/article/15060, serial chorus
//   scheme) sets `new ZegoAudioConfig(ZegoAudioConfigPreset.HIGH_QUALITY)` with `channel = STEREO` for the
//   singer's stream; HIGH_QUALITY is 128 kbps (ZegoAudioConfigPreset docs: "High sound quality (128 kbps,
//   Mono, ZegoAudioCodecIDDefault)"; the SDK's own default is StandardQuality, 48 kbps mono). That guide picks
//   codec Low3, ZEGO's proprietary codec; Opus at the same bitrate is the open stand-in.
// - packet duration: 20 ms, the packet this harness already publishes (two 10 ms mixer frames) and Opus's
//   default frame size; 48 kHz stereo, the mixer's format.

/** How published audio is carried. */
export type MediaCodec = "pcm" | "opus" | "opus-preencoded";
export const MEDIA_CODECS: readonly MediaCodec[] = ["pcm", "opus", "opus-preencoded"];
export const DEFAULT_MEDIA_CODEC: MediaCodec = "pcm";

export function isMediaCodec(v: unknown): v is MediaCodec {
  return typeof v === "string" && (MEDIA_CODECS as readonly string[]).includes(v);
}

/** Opus bitrate of the Karaoke profile, bit/s (see above). */
export const KARAOKE_OPUS_BITRATE = 128_000;
/** Packet duration, ms. */
export const KARAOKE_PACKET_MS = 20;
export const KARAOKE_SAMPLE_RATE = 48_000;
export const KARAOKE_CHANNELS = 2;
/** Sample frames (per channel) in one packet. */
export const KARAOKE_PACKET_FRAMES = (KARAOKE_SAMPLE_RATE * KARAOKE_PACKET_MS) / 1000;
