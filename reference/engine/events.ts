import type { FrameHeader } from "../../protocol/media.ts";
import type {
  ZegoPlayerState,
  ZegoPublisherState,
  ZegoRoomState,
  ZegoRoomStateChangedReason,
  ZegoStream,
  ZegoUpdateType,
  ZegoUser,
} from "./types.ts";

// The engine's events (ZegoExpressEngine's callbacks, Flutter names). They fire for changes, never per audio
// frame: frames go to the plain callbacks of startPlayingStream and setMixedAudioDataHandler, which allocate
// nothing (an emitter call builds an argument array).

export interface ExpressEngineEvents {
  /** The room's connection state (Disconnected / Connecting / Connected) with the error that caused it. */
  onRoomStateUpdate: (
    roomID: string,
    state: ZegoRoomState,
    errorCode: number,
    extendedData: Record<string, unknown>,
  ) => void;
  /** The same transitions with their reason (Logining, Logined, Reconnecting, Reconnected, KickOut...). */
  onRoomStateChanged: (
    roomID: string,
    reason: ZegoRoomStateChangedReason,
    errorCode: number,
    extendedData: Record<string, unknown>,
  ) => void;
  /** Other users joined (Add) or left (Delete); on login, everyone already there arrives as one Add. */
  onRoomUserUpdate: (roomID: string, updateType: ZegoUpdateType, userList: Required<ZegoUser>[]) => void;
  /** Streams of other users started (Add) or stopped (Delete). */
  onRoomStreamUpdate: (
    roomID: string,
    updateType: ZegoUpdateType,
    streamList: ZegoStream[],
    extendedData: Record<string, unknown>,
  ) => void;
  /** The login token expires in `remainTimeInSecond`: call renewToken(roomID, freshToken). */
  onRoomTokenWillExpire: (roomID: string, remainTimeInSecond: number) => void;
  /** The server removed this user from the room (1002050 logged in elsewhere, 1002056 token expired...). */
  onKicked: (roomID: string, errorCode: number, message: string) => void;
  onPublisherStateUpdate: (
    streamID: string,
    state: ZegoPublisherState,
    errorCode: number,
    extendedData: Record<string, unknown>,
  ) => void;
  onPlayerStateUpdate: (
    streamID: string,
    state: ZegoPlayerState,
    errorCode: number,
    extendedData: Record<string, unknown>,
  ) => void;
}

/**
 * A played stream's audio, one 20 ms packet per call: `pcm` holds the packet's interleaved s16 samples and is
 * reused for the next packet (copy what you keep); `header` likewise.
 */
export type PlayedFrameHandler = (pcm: Int16Array, header: Readonly<FrameHeader>, streamID: string) => void;

/** The publish mix, one 10 ms frame per call, `frameIndex` counting from the start of publishing. Reused. */
export type MixedAudioHandler = (pcm: Int16Array, frameIndex: number) => void;

/**
 * Every packet of a played stream as it arrives, before (and without) decoding: its header (reused; copy what
 * you keep) and its arrival time (µs on the epoch time base, the receiver's one clock read for the packet: the
 * time its jitter is computed from, so a latency taken from it needs no second read). Not in the SDK; for
 * measuring (latency, bytes) without paying for samples nobody listens to.
 */
export type PlayedPacketHandler = (
  header: Readonly<FrameHeader>,
  streamID: string,
  arrivalUs: number,
) => void;
