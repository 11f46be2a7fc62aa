import type { MediaCodec } from "../codec/profile.ts";
import type { RetryPolicy } from "../music/retry.ts";
import type { Logger } from "../music/transport.ts";
import type { ZegoUser } from "../music/types.ts";

// The engine's public shapes: ZegoExpressEngine's names and enum values (Flutter 3.19), plus the few options a
// simulator client needs that the real SDK finds on its own (the server URL, timeouts, the reconnect policy).

export type { ZegoUser };

/** ZegoScenario: the docs use Karaoke for online KTV. Informational here (no audio processing differs). */
export const ZegoScenario = { Default: 3, StandardVoiceCall: 4, HighQualityChatroom: 7, Karaoke: 9 } as const;

/** How the media socket writes published packets and reads relayed ones (ZegoEngineProfile.mediaSocket). */
export interface MediaSocketTuning {
  framedWrites?: boolean;
  readPackets?: boolean;
}

export interface ZegoEngineProfile {
  appID: number;
  /** 64 hex chars; optional since 2.17.0 (use a token at loginRoom instead). */
  appSign?: string;
  scenario?: number;
  /**
   * Not in the SDK (it finds its servers by app id): the simulator's base URL, e.g. http://127.0.0.1:7400.
   * The vendor API and the media WebSocket (`/v1/media`) are both served there.
   */
  server: string;
  /**
   * Not in the SDK: reach the media WebSocket over this Unix domain socket instead of `server`'s TCP port (the
   * simulator serves both with `--socket`; the embedded simulator of `ktv run` does for its own VUs).
   */
  mediaSocketPath?: string;
  /**
   * Not in the SDK: the media socket as a load generator runs it (both off by default). `framedWrites`: each
   * published packet framed here and written to the connection in one write with a zero masking key
   * (engine/client-frame-writer.ts; legal RFC 6455, but a browser or a real SDK picks random keys).
   * `readPackets`: relayed packets taken off the connection before ws's Receiver (engine/server-frame-reader.ts).
   */
  mediaSocket?: MediaSocketTuning;
  /** Media socket connect timeout (default 5 s). */
  connectTimeoutMs?: number;
  /** How long a control request (login, publish, play...) waits for its answer (default 5 s). */
  requestTimeoutMs?: number;
  /** Reconnect after the media socket drops: bounded attempts, exponential backoff, full jitter. */
  reconnect?: Partial<RetryPolicy>;
  /** The publish mixer's peak limiter (default on: a loud voice over a loud song must not clip). */
  limiter?: boolean;
  /**
   * Not in the SDK (it picks its codec from ZegoAudioConfig): how published audio goes on the wire. "pcm"
   * (default) 48 kHz stereo s16; "opus" encoded live at the Karaoke profile (reference/codec/profile.ts);
   * "opus-preencoded" packets of one Opus encoding made once per thread, same sizes and cadence, no encoder
   * per stream (load runs).
   */
  codec?: MediaCodec;
  /**
   * Keep the publisher's own lateness/mix-cost histograms, so getPublishStats().clock and
   * getPublishHistograms() report this client's mix (default true). Load workers that run many engines in one
   * thread turn it off and read the thread's FrameTicker (`threadTicker().drain()`) once per flush instead.
   */
  publishHistograms?: boolean;
  /** Passed to createCopyrightedMusic: where downloads are cached. */
  cacheDir?: string;
  /** pino-compatible; the default logs nothing. */
  logger?: Logger;
}

export interface ZegoRoomConfig {
  /** token04 for this user; required when the profile has no app sign. */
  token?: string;
}

export const ZegoRoomState = { Disconnected: 0, Connecting: 1, Connected: 2 } as const;
export type ZegoRoomState = (typeof ZegoRoomState)[keyof typeof ZegoRoomState];

export const ZegoRoomStateChangedReason = {
  Logining: 0,
  Logined: 1,
  LoginFailed: 2,
  Reconnecting: 3,
  Reconnected: 4,
  ReconnectFailed: 5,
  KickOut: 6,
  Logout: 7,
  LogoutFailed: 8,
} as const;
export type ZegoRoomStateChangedReason =
  (typeof ZegoRoomStateChangedReason)[keyof typeof ZegoRoomStateChangedReason];

/** The room state each reason leaves the room in. */
export function stateOfReason(reason: ZegoRoomStateChangedReason): ZegoRoomState {
  switch (reason) {
    case ZegoRoomStateChangedReason.Logining:
    case ZegoRoomStateChangedReason.Reconnecting:
      return ZegoRoomState.Connecting;
    case ZegoRoomStateChangedReason.Logined:
    case ZegoRoomStateChangedReason.Reconnected:
    case ZegoRoomStateChangedReason.LogoutFailed:
      return ZegoRoomState.Connected;
    default:
      return ZegoRoomState.Disconnected;
  }
}

export const ZegoUpdateType = { Add: 0, Delete: 1 } as const;
export type ZegoUpdateType = (typeof ZegoUpdateType)[keyof typeof ZegoUpdateType];

export const ZegoPublisherState = { NoPublish: 0, PublishRequesting: 1, Publishing: 2 } as const;
export type ZegoPublisherState = (typeof ZegoPublisherState)[keyof typeof ZegoPublisherState];

export const ZegoPlayerState = { NoPlay: 0, PlayRequesting: 1, Playing: 2 } as const;
export type ZegoPlayerState = (typeof ZegoPlayerState)[keyof typeof ZegoPlayerState];

export interface ZegoStream {
  user: Required<ZegoUser>;
  streamID: string;
  extraInfo: string;
}

export interface ZegoRoomLoginResult {
  errorCode: number;
  extendedData: Record<string, unknown>;
}

export interface ZegoRoomLogoutResult {
  errorCode: number;
  extendedData: Record<string, unknown>;
}
