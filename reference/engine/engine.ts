import { createPacketCodec, type PacketCodec, PreencodedOpus } from "../codec/packet-codec.ts";
import { isMediaCodec, MEDIA_CODECS, type MediaCodec } from "../codec/profile.ts";
import { ZegoError } from "../errors.ts";
import { TypedEmitter } from "../events.ts";
import type { ClockHistograms } from "../mixer/clock.ts";
import type { PcmSource } from "../mixer/source.ts";
import type { ZegoCopyrightedMusicOptions } from "../music/copyrighted-music.ts";
import { retryPolicy } from "../music/retry.ts";
import { silentLogger } from "../music/transport.ts";
import { MediaPlayerFactory } from "../player/factory.ts";
import type { ZegoMediaPlayer } from "../player/media-player.ts";
import { CaptureDevice, type CaptureStats } from "./capture.ts";
import { EngineCopyrightedMusic } from "./engine-music.ts";
import type {
  ExpressEngineEvents,
  MixedAudioHandler,
  PlayedFrameHandler,
  PlayedPacketHandler,
} from "./events.ts";
import { mediaUrl } from "./media-socket.ts";
import { RoomSession } from "./room-session.ts";
import { type PlayStats, StreamReceiver } from "./stream-receiver.ts";
import {
  type ZegoEngineProfile,
  ZegoPlayerState,
  ZegoPublisherState,
  type ZegoRoomConfig,
  type ZegoRoomLoginResult,
  type ZegoRoomLogoutResult,
  type ZegoRoomState,
  type ZegoUser,
} from "./types.ts";

// ZegoExpressEngine with the SDK's shape (Promise-based like the Flutter API, events through a typed emitter)
// for the simulator's media server. The engine owns:
//   - the room session (room-session.ts): login, events, token renewal, reconnect;
//   - the publish path (capture.ts): a mixer of the media players (enableAux) and the microphone, clocked
//     every 10 ms, published as 20 ms packets, PCM or through the profile's codec (reference/codec) on their
//     way to the socket, every byte sent counted;
//   - the play path (stream-receiver.ts): relayed packets to each played stream's callback;
//   - the media players (at most 4) and the copyrighted-music module, wired to the publish mixer and the
//     engine's credentials.
// Unlike the SDK there is no process-wide singleton: a load test runs hundreds of engines in one process.

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
const DEFAULT_RECONNECT = { maxAttempts: 8, baseDelayMs: 250, maxDelayMs: 4_000 };

/** Publish statistics: the capture clock's, plus the codec and the bytes the media socket took. */
export interface PublishStats extends CaptureStats {
  codec: MediaCodec;
  /** Bytes of whole frames (header + payload) sent since publishing started: the wire's media bytes. */
  bytesSent: number;
}

export class ZegoExpressEngine extends TypedEmitter<ExpressEngineEvents> {
  readonly profile: Readonly<ZegoEngineProfile>;
  private readonly session: RoomSession;
  private readonly capture: CaptureDevice;
  private readonly receiver = new StreamReceiver();
  private readonly playHandlers = new Map<string, PlayedFrameHandler | undefined>();
  private readonly players: MediaPlayerFactory;
  private music: EngineCopyrightedMusic | null = null;
  private destroyed = false;
  private readonly codec: MediaCodec;
  /** The publishing stream's codec step (null for PCM, and before the first publish). */
  private packetCodec: PacketCodec | null = null;
  private bytesSent = 0;

  constructor(profile: ZegoEngineProfile) {
    super();
    if (!Number.isInteger(profile.appID) || profile.appID <= 0 || profile.appID > 0xffffffff) {
      throw new ZegoError(1001000, `appID must be a uint32 other than 0, got ${profile.appID}`);
    }
    if (profile.appSign !== undefined && profile.appSign !== "") {
      if (profile.appSign.length !== 64) throw new ZegoError(1001001, `got ${profile.appSign.length} chars`);
      if (!/^[0-9a-fA-F]{64}$/.test(profile.appSign)) throw new ZegoError(1001002);
    }
    if (profile.codec !== undefined && !isMediaCodec(profile.codec)) {
      throw new ZegoError(1000017, `codec must be one of ${MEDIA_CODECS.join(", ")}, got ${profile.codec}`);
    }
    this.codec = profile.codec ?? "pcm";
    // The shared pre-encoded packets are built now (once per thread), never on the audio path.
    if (this.codec === "opus-preencoded") PreencodedOpus.shared();
    this.profile = { ...profile };
    this.capture = new CaptureDevice({
      limiter: profile.limiter ?? true,
      histograms: profile.publishHistograms ?? true,
    });
    this.capture.send = this.sendPacket;
    const appSign = profile.appSign === "" ? undefined : profile.appSign;
    this.session = new RoomSession({
      mediaUrl: mediaUrl(profile.server, profile.mediaSocketPath),
      appID: profile.appID,
      ...(appSign ? { appSign } : {}),
      connectTimeoutMs: profile.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      ...(profile.mediaSocket ? { socketTuning: { ...profile.mediaSocket } } : {}),
      requestTimeoutMs: profile.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      reconnect: retryPolicy({ ...DEFAULT_RECONNECT, ...profile.reconnect }),
      logger: profile.logger ?? silentLogger,
      hooks: {
        emit: (event, ...args) => this.emit(event, ...args),
        listens: (event) => this.listenerCount(event) > 0,
        onFrame: (data) => this.receiver.onFrame(data),
        onPublishLive: (streamID) => {
          this.capture.restartSequence();
          this.emit("onPublisherStateUpdate", streamID, ZegoPublisherState.Publishing, 0, {});
        },
        onSocketReplaced: () => this.receiver.resetSequences(),
        onRoomEnded: (code, published) => this.onRoomEnded(code, published),
      },
    });
    this.players = new MediaPlayerFactory({
      // The players look resources up in whatever copyrighted-music module exists when they load.
      resources: { resolvePlayable: (id) => this.music?.resolvePlayable(id) ?? { errorCode: 1017096 } },
      mixer: this.capture.mixer,
    });
  }

  // ---- room ------------------------------------------------------------------------------------------------

  /** Logs in to `roomID` as `user` (errors are the server's 1002xxx codes; 1002067 with neither sign nor token). */
  loginRoom(roomID: string, user: ZegoUser, config?: ZegoRoomConfig): Promise<ZegoRoomLoginResult> {
    this.alive();
    return this.session.loginRoom(roomID, user, config);
  }

  /** Leaves the room: publishing and playing stop; a reconnect in progress is cancelled. */
  logoutRoom(roomID?: string): Promise<ZegoRoomLogoutResult> {
    return this.session.logoutRoom(roomID);
  }

  renewToken(roomID: string, token: string): Promise<void> {
    return this.session.renewToken(roomID, token);
  }

  get roomState(): ZegoRoomState {
    return this.session.state;
  }

  /** Reconnects completed since the last login. */
  get reconnectCount(): number {
    return this.session.reconnects;
  }

  // ---- publishing ------------------------------------------------------------------------------------------

  /**
   * Not in the SDK: sends the publish request for `streamID` now, and the startPublishingStream(streamID) that
   * follows only waits for its answer and starts the clock. A singer's app can overlap the handshake with the
   * song's request and download instead of paying its round trip between "loaded" and the first frame (5-10 ms
   * of a warm smoke run's ~40 ms pick-to-first-packet, traced: the answer waits behind the download's pieces on
   * both threads). No frame is mixed or sent before startPublishingStream. An error is thrown by that
   * startPublishingStream; stopPublishingStream (or leaving the room) ends a prepared stream.
   */
  preparePublishingStream(streamID: string): void {
    this.alive();
    if (this.capture.running || this.prepared !== null || this.session.publishedStream !== null) return;
    this.emit("onPublisherStateUpdate", streamID, ZegoPublisherState.PublishRequesting, 0, {});
    const done = this.session.publish(streamID);
    done.catch(() => {}); // observed by startPublishingStream or stopPublishingStream
    this.prepared = { streamID, done };
  }

  /**
   * Publishes the mix (players with aux enabled + the microphone) as `streamID`. Resolves once the server
   * accepted the stream (while reconnecting: once it is queued for the new socket) and the clock runs; rejects
   * with ZegoError (1000002 not in a room, 1002082 no publish privilege, 1000017 bad or taken stream id).
   */
  async startPublishingStream(streamID: string): Promise<void> {
    this.alive();
    const early = this.prepared?.streamID === streamID ? this.takePrepared()!.done : null;
    if (early === null) {
      // Prepared under another id: that request settles, and the stream it published is undone, first.
      if (this.prepared !== null) {
        await this.settlePrepared();
        await this.unpublishCurrent();
      }
      this.emit("onPublisherStateUpdate", streamID, ZegoPublisherState.PublishRequesting, 0, {});
    }
    try {
      await (early ?? this.session.publish(streamID));
    } catch (err) {
      this.publishFailed(streamID, err);
      throw err;
    }
    if (!this.capture.running) {
      this.packetCodec?.destroy();
      this.packetCodec = createPacketCodec(this.codec);
      this.bytesSent = 0;
    }
    this.capture.start(streamID);
  }

  /** Stops the clock at once (no frame is mixed after this call returns) and unpublishes. */
  async stopPublishingStream(): Promise<void> {
    this.capture.stop();
    await this.settlePrepared();
    await this.unpublishCurrent();
  }

  private prepared: { streamID: string; done: Promise<void> } | null = null;

  private takePrepared(): { streamID: string; done: Promise<void> } | null {
    const p = this.prepared;
    this.prepared = null;
    return p;
  }

  /**
   * Waits out a prepared publish request (NoPublish with its code when it failed). A prepared stream is the only
   * one that can be published while the clock is stopped (prepare refuses when a stream is published or the
   * clock runs, and start consumes it), so what is published afterwards is that stream or nothing.
   */
  private async settlePrepared(): Promise<void> {
    const p = this.takePrepared();
    if (p === null) return;
    try {
      await p.done;
    } catch (err) {
      this.publishFailed(p.streamID, err);
    }
  }

  /** Unpublishes the published stream, if any (NoPublish, 0). */
  private async unpublishCurrent(): Promise<void> {
    const streamID = this.session.publishedStream;
    if (streamID === null) return;
    await this.session.unpublish(streamID);
    this.emit("onPublisherStateUpdate", streamID, ZegoPublisherState.NoPublish, 0, {});
  }

  private publishFailed(streamID: string, err: unknown): void {
    const code = err instanceof ZegoError ? err.code : 1000017;
    this.emit("onPublisherStateUpdate", streamID, ZegoPublisherState.NoPublish, code, {});
  }

  /**
   * The headless "microphone": any PcmSource (the pipeline's VoiceSource singing the pitch line), or null.
   * Not in the SDK, whose microphone is a device.
   */
  setMicrophoneSource(source: PcmSource | null): void {
    this.capture.setMicrophone(source);
  }

  muteMicrophone(mute: boolean): void {
    this.capture.muteMicrophone(mute);
  }

  /** Capture volume 0..200 (100 = unity); 1000017 outside. */
  setCaptureVolume(volume: number): void {
    try {
      this.capture.setMicrophoneVolume(volume);
    } catch {
      throw new ZegoError(1000017, `capture volume must be an integer 0..200, got ${volume}`);
    }
  }

  /** Every mixed 10 ms publish frame (like the SDK's onMixedAudioData); the buffer is reused: copy to keep. */
  setMixedAudioDataHandler(handler: MixedAudioHandler | null): void {
    this.capture.onMixed = handler;
  }

  /** Packets published since startPublishingStream (a counter read, safe inside the mixed-audio handler). */
  get publishedPackets(): number {
    return this.capture.sentPackets;
  }

  /** Frames mixed, packets and bytes sent, packets dropped, the codec, and the clock's lateness and mix cost. */
  getPublishStats(): PublishStats {
    return { ...this.capture.stats(), codec: this.codec, bytesSent: this.bytesSent };
  }

  /** The clock's lateness and mix-cost histograms (µs, encoded), to merge runs exactly; null before publishing. */
  getPublishHistograms(): ClockHistograms | null {
    return this.capture.histograms();
  }

  // ---- playing ---------------------------------------------------------------------------------------------

  /**
   * Plays another user's stream from the live edge; `onFrame` gets each 20 ms packet's samples (Opus is
   * decoded only when it is given), `onPacket` (not in the SDK) each packet's header as it arrives. Resolves
   * once the server accepted (whether or not the stream is published yet); rejects with ZegoError.
   */
  async startPlayingStream(
    streamID: string,
    onFrame?: PlayedFrameHandler,
    onPacket?: PlayedPacketHandler,
  ): Promise<void> {
    this.alive();
    this.receiver.add(streamID, onFrame, onPacket);
    this.playHandlers.set(streamID, onFrame);
    this.emit("onPlayerStateUpdate", streamID, ZegoPlayerState.PlayRequesting, 0, {});
    let outcome: "playing" | "queued";
    try {
      outcome = await this.session.play(streamID);
    } catch (err) {
      this.receiver.remove(streamID);
      this.playHandlers.delete(streamID);
      const code = err instanceof ZegoError ? err.code : 1000017;
      this.emit("onPlayerStateUpdate", streamID, ZegoPlayerState.NoPlay, code, {});
      throw err;
    }
    // While reconnecting the request waits for the new socket, which reports Playing when it replays it.
    if (outcome === "playing") this.emit("onPlayerStateUpdate", streamID, ZegoPlayerState.Playing, 0, {});
  }

  async stopPlayingStream(streamID: string): Promise<void> {
    if (!this.playHandlers.delete(streamID)) return;
    this.receiver.remove(streamID);
    await this.session.unplay(streamID);
    this.emit("onPlayerStateUpdate", streamID, ZegoPlayerState.NoPlay, 0, {});
  }

  /** Packets, bytes, loss, reordering, jitter and discontinuities of a played stream. */
  getPlayStats(streamID: string): Readonly<PlayStats> | undefined {
    return this.receiver.stats(streamID);
  }

  // ---- media players and copyrighted music ---------------------------------------------------------------

  /** A media player mixed into the publish stream once enableAux(true); at most 4 (ZegoError 1008030). */
  createMediaPlayer(): Promise<ZegoMediaPlayer> {
    this.alive();
    return this.players.createMediaPlayer();
  }

  destroyMediaPlayer(player: ZegoMediaPlayer): Promise<void> {
    return this.players.destroyMediaPlayer(player);
  }

  /**
   * The copyrighted-music module (one per engine) with this engine's app id and credentials. `options` are
   * not in the SDK: cache directory, retry policies, a fetch to observe traffic, a logger.
   */
  createCopyrightedMusic(
    options: Omit<ZegoCopyrightedMusicOptions, "baseUrl" | "appId" | "appSign" | "token"> = {},
  ): EngineCopyrightedMusic {
    this.alive();
    if (this.music) return this.music;
    const p = this.profile;
    const appSign = p.appSign === "" ? undefined : p.appSign;
    this.music = new EngineCopyrightedMusic(
      {
        ...(p.cacheDir !== undefined ? { cacheDir: p.cacheDir } : {}),
        ...(p.logger ? { logger: p.logger } : {}),
        ...options,
        baseUrl: p.server,
        appId: p.appID,
        ...(appSign ? { appSign } : { token: () => this.session.token ?? "" }),
      },
      { hasAppSign: appSign !== undefined, token: () => this.session.token },
    );
    return this.music;
  }

  async destroyCopyrightedMusic(): Promise<void> {
    const m = this.music;
    this.music = null;
    await m?.destroy();
  }

  /** Everything off: publishing, playing, players, the music module, the room and its socket. */
  async destroyEngine(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    this.capture.stop();
    this.packetCodec?.destroy();
    this.packetCodec = null;
    this.session.close();
    for (const p of this.players.players) await this.players.destroyMediaPlayer(p);
    await this.destroyCopyrightedMusic();
    this.removeAllListeners();
  }

  /** Drops the media socket as a network failure would; the engine reconnects (tests, chaos drills). */
  simulateNetworkDrop(): void {
    this.session.dropConnection();
  }

  /** The capture device's sink: the packet through the codec step, onto the socket, its bytes counted. */
  private readonly sendPacket = (pcmPacket: Uint8Array): boolean => {
    const codec = this.packetCodec;
    const wire = codec === null ? pcmPacket : codec.packet(pcmPacket);
    if (!this.session.sendFrame(wire)) return false;
    this.bytesSent += wire.length;
    return true;
  };

  private onRoomEnded(code: number, streamID: string | null): void {
    this.capture.stop();
    for (const id of [...this.playHandlers.keys()]) {
      this.receiver.remove(id);
      this.emit("onPlayerStateUpdate", id, ZegoPlayerState.NoPlay, code, {});
    }
    this.playHandlers.clear();
    if (streamID !== null)
      this.emit("onPublisherStateUpdate", streamID, ZegoPublisherState.NoPublish, code, {});
  }

  private alive(): void {
    if (this.destroyed) throw new ZegoError(1000001, "the engine was destroyed");
  }
}

/** createEngine: a new engine for `profile` (the SDK's createEngineWithProfile, without the singleton). */
export function createEngine(profile: ZegoEngineProfile): ZegoExpressEngine {
  return new ZegoExpressEngine(profile);
}
