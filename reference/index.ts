// The reference client's public API: the SDK-shaped engine, copyrighted-music module and media player, the
// mixer's building blocks, and the careful app's pipeline. Everything talks to the simulator over the wire
// contract only; nothing here imports the simulator. See reference/README.md.

export {
  BillingMode,
  Quality,
  ResourceType,
  SceneId,
  VendorId,
} from "../protocol/enums.ts";
export type { FrameHeader } from "../protocol/media.ts";
export { OpusCodec, type OpusCodecOptions, OpusError } from "./codec/opus.ts";
export { createPacketCodec, type PacketCodec, PreencodedOpus } from "./codec/packet-codec.ts";
export { KARAOKE_OPUS_BITRATE, MEDIA_CODECS, type MediaCodec } from "./codec/profile.ts";
export type { CaptureStats } from "./engine/capture.ts";
export { createEngine, type PublishStats, ZegoExpressEngine } from "./engine/engine.ts";
export { EngineCopyrightedMusic } from "./engine/engine-music.ts";
export type {
  ExpressEngineEvents,
  MixedAudioHandler,
  PlayedFrameHandler,
  PlayedPacketHandler,
} from "./engine/events.ts";
export type { PlayStats } from "./engine/stream-receiver.ts";
export {
  type MediaSocketTuning,
  type ZegoEngineProfile,
  ZegoPlayerState,
  ZegoPublisherState,
  type ZegoRoomConfig,
  type ZegoRoomLoginResult,
  type ZegoRoomLogoutResult,
  ZegoRoomState,
  ZegoRoomStateChangedReason,
  ZegoScenario,
  type ZegoStream,
  ZegoUpdateType,
} from "./engine/types.ts";
export { codeOf, ZegoError } from "./errors.ts";
export { TypedEmitter } from "./events.ts";
export { type ClockReport, FrameClock } from "./mixer/clock.ts";
export { Mixer } from "./mixer/mixer.ts";
export {
  ArrayReader,
  type MixerSourceOptions,
  mixerSource,
  ResampledSource,
} from "./mixer/resampled-source.ts";
export { BufferSource, type PcmReader, type PcmSource } from "./mixer/source.ts";
export { type PitchNote, VoiceSource } from "./mixer/voice.ts";
export { WavWriter } from "./mixer/wav.ts";
export { WavFileReader } from "./mixer/wav-reader.ts";
export {
  type CopyrightedMusicEvents,
  ZegoCopyrightedMusic,
  type ZegoCopyrightedMusicOptions,
} from "./music/copyrighted-music.ts";
export type { RetryPolicy } from "./music/retry.ts";
export type { Logger } from "./music/transport.ts";
export type * from "./music/types.ts";
export { checkPipelineConfig, type PipelineConfig, type SongChoice } from "./pipeline/config.ts";
export type { PipelineEvent } from "./pipeline/events.ts";
export {
  isRevocation,
  provablyFailed,
  type RecoveryAction,
  type RecoveryRule,
  shouldFallBackToRequest,
  shouldRequestAgain,
  transientRetryPolicy,
} from "./pipeline/recovery.ts";
export type { PipelineResult, StageTimes } from "./pipeline/result.ts";
export { PipelineConfigError, runPipeline } from "./pipeline/run.ts";
export { type MediaPlayerEvents, ZegoMediaPlayer } from "./player/media-player.ts";
export { MAX_MEDIA_PLAYERS, ZegoMediaPlayerState } from "./player/state.ts";
