import { ZegoError } from "../errors.ts";
import { TypedEmitter } from "../events.ts";
import type { PcmSource } from "../mixer/source.ts";
import { openPlayback, type PlaybackLike } from "./open-playback.ts";
import type { ProgressiveFile } from "./progressive-file.ts";
import { ProgressivePlayback } from "./progressive-playback.ts";
import type { PlayableResources } from "./resources.ts";
import {
  DEFAULT_PLAYER_VOLUME,
  DEFAULT_PROGRESS_INTERVAL_MS,
  type ZegoMediaPlayerState as State,
  ZegoMediaPlayerState,
} from "./state.ts";

// ZegoMediaPlayer for copyrighted resources (spec §6). The player has no clock of its own: it is a mixer
// input (`source`), and whoever owns the clock (the engine's mixer) pulls 10 ms frames from it. Play position,
// progress events and the end of the song all follow the frames pulled, never wall time. A player that is
// not playing yields silence, so the mixer keeps its timing.
//
// Conventions: methods the SDK answers with a result resolve to {errorCode}; methods it declares void throw a
// ZegoError on misuse (1008003 nothing loaded, 1017007 volume, 1008040 track, 1008001 destroyed).

export interface MediaPlayerEvents {
  onMediaPlayerStateUpdate: (player: ZegoMediaPlayer, state: State, errorCode: number) => void;
  /** Every `setProgressInterval` ms of play (default 1000; 0 = off). */
  onMediaPlayerPlayingProgress: (player: ZegoMediaPlayer, millisecond: number) => void;
  /** Buffering of a resource still downloading: BufferBegin (0) when the play position reached the bytes
   * that have arrived, BufferEnded (1) when play resumes (the SDK's ZegoMediaPlayerNetworkEvent). */
  onMediaPlayerNetworkEvent: (player: ZegoMediaPlayer, networkEvent: ZegoMediaPlayerNetworkEvent) => void;
}

export const ZegoMediaPlayerNetworkEvent = { BufferBegin: 0, BufferEnded: 1 } as const;
export type ZegoMediaPlayerNetworkEvent =
  (typeof ZegoMediaPlayerNetworkEvent)[keyof typeof ZegoMediaPlayerNetworkEvent];

/** The part of the engine's Mixer a player drives when aux is used (structurally `Mixer`). */
export interface AuxMixer {
  add(source: PcmSource, opts: { volume?: number; muted?: boolean }): number;
  remove(id: number): boolean;
  setVolume(id: number, volume: number): void;
  setMuted(id: number, muted: boolean): void;
}

export interface MediaPlayerDeps {
  index: number;
  resources: PlayableResources;
  /** The publish mixer: the player joins it muted and `enableAux(true)` unmutes it. */
  mixer?: AuxMixer;
  onDestroy?: (player: ZegoMediaPlayer) => void;
}

function checkVolume(volume: number): void {
  if (!Number.isInteger(volume) || volume < 0 || volume > 200) {
    throw new ZegoError(1017007, `got ${volume}`);
  }
}

export class ZegoMediaPlayer extends TypedEmitter<MediaPlayerEvents> {
  /** Pull 48 kHz stereo 10 ms frames from here (the mixer does). */
  readonly source: PcmSource;
  private readonly index: number;
  private readonly resources: PlayableResources;
  private readonly mixer: AuxMixer | undefined;
  private readonly mixerInput: number | undefined;
  private readonly onDestroy: ((p: ZegoMediaPlayer) => void) | undefined;
  private playback: PlaybackLike | null = null;
  /** The loaded playback when it is a still-downloading file (checked per frame for failure and buffering). */
  private progressive: ProgressivePlayback | null = null;
  private buffering = false;
  private current: State = ZegoMediaPlayerState.NoPlay;
  private playVolume = DEFAULT_PLAYER_VOLUME;
  private publishVolume = DEFAULT_PLAYER_VOLUME;
  private aux = false;
  private progressInterval = DEFAULT_PROGRESS_INTERVAL_MS;
  private nextProgressAt = 0;
  private destroyed = false;

  constructor(deps: MediaPlayerDeps) {
    super();
    this.index = deps.index;
    this.resources = deps.resources;
    this.mixer = deps.mixer;
    this.onDestroy = deps.onDestroy;
    this.source = { read: (out) => this.pull(out) };
    this.mixerInput = this.mixer?.add(this.source, { volume: this.publishVolume, muted: true });
  }

  getIndex(): number {
    return this.index;
  }

  /** The state now (the SDK's getCurrentState, synchronously). */
  get state(): State {
    return this.current;
  }

  /**
   * Loads a downloaded copyrighted resource at `startPosition` ms (0..duration, else 1017005). Unloads what was
   * loaded before. The resource must have finished downloading in this session (1017013 otherwise) and not be
   * expired (1008011).
   */
  async loadCopyrightedMusicResourceWithPosition(
    resourceID: string,
    startPosition: number,
  ): Promise<{ errorCode: number }> {
    this.alive();
    const found = this.resources.resolvePlayable(resourceID);
    if (found.errorCode !== 0 || !("path" in found)) return { errorCode: found.errorCode };
    let pb: PlaybackLike;
    try {
      pb = openPlayback(found);
    } catch {
      return { errorCode: 1017015 };
    }
    if (!Number.isInteger(startPosition) || startPosition < 0 || startPosition > pb.durationMs) {
      pb.close();
      return { errorCode: 1017005 };
    }
    this.unload();
    pb.seek(startPosition);
    this.playback = pb;
    this.nextProgressAt = startPosition + this.progressInterval;
    return { errorCode: 0 };
  }

  /**
   * Not in the SDK (whose load needs a finished download): loads a resource while it downloads, from the
   * bytes arrived so far (`file`, fed by download()'s onData), at `startPosition` ms. Play waits (silence,
   * BufferBegin) whenever it reaches bytes not yet there; when the download fails, playing stops with the
   * download's code (onMediaPlayerStateUpdate NoPlay + code, e.g. 1017015 corrupt): unverifiable audio is not
   * played on. 1017015 when the arrived bytes do not start a 16-bit PCM WAV, 1017005 for a bad position.
   */
  async loadDownloadingResource(
    file: ProgressiveFile,
    quality: "normal" | "hq" | "sq",
    startPosition: number,
  ): Promise<{ errorCode: number }> {
    this.alive();
    if (file.state === "failed") return { errorCode: file.code || 1017015 };
    let pb: ProgressivePlayback;
    try {
      pb = new ProgressivePlayback(file, quality);
    } catch {
      return { errorCode: 1017015 };
    }
    if (!Number.isInteger(startPosition) || startPosition < 0 || startPosition > pb.durationMs) {
      return { errorCode: 1017005 };
    }
    this.unload();
    pb.seek(startPosition);
    this.playback = pb;
    this.progressive = pb;
    this.nextProgressAt = startPosition + this.progressInterval;
    return { errorCode: 0 };
  }

  /** Plays from the current position (from 0 after the end); resumes when paused. */
  async start(): Promise<void> {
    const pb = this.loaded();
    if (this.current === ZegoMediaPlayerState.Playing) return;
    if (pb.ended) {
      pb.seek(0);
      this.nextProgressAt = this.progressInterval;
    }
    this.setState(ZegoMediaPlayerState.Playing);
  }

  async pause(): Promise<void> {
    this.loaded();
    if (this.current === ZegoMediaPlayerState.Playing) this.setState(ZegoMediaPlayerState.Pausing);
  }

  async resume(): Promise<void> {
    this.loaded();
    if (this.current === ZegoMediaPlayerState.Pausing) this.setState(ZegoMediaPlayerState.Playing);
  }

  /** Stops and unloads: load again to play (state NoPlay, progress and duration 0). */
  async stop(): Promise<void> {
    this.alive();
    this.unload();
  }

  /** Moves the play position; 1008016 before a load, 1017006 outside 0..duration. */
  async seekTo(millisecond: number): Promise<{ errorCode: number }> {
    this.alive();
    const pb = this.playback;
    if (!pb) return { errorCode: 1008016 };
    if (!Number.isInteger(millisecond) || millisecond < 0 || millisecond > pb.durationMs) {
      return { errorCode: 1017006 };
    }
    pb.seek(millisecond);
    this.nextProgressAt = millisecond + this.progressInterval;
    // Seeking back into the song after its end makes it playable again without a restart.
    if (this.current === ZegoMediaPlayerState.PlayEnded && !pb.ended)
      this.setState(ZegoMediaPlayerState.NoPlay);
    return { errorCode: 0 };
  }

  /** ms of play between onMediaPlayerPlayingProgress events; 0 turns them off. */
  async setProgressInterval(millisecond: number): Promise<void> {
    this.alive();
    if (!Number.isInteger(millisecond) || millisecond < 0)
      throw new ZegoError(1000017, `interval ${millisecond}`);
    this.progressInterval = millisecond;
    this.nextProgressAt = (this.playback?.positionMs ?? 0) + millisecond;
  }

  async setVolume(volume: number): Promise<void> {
    checkVolume(volume);
    await this.setPlayVolume(volume);
    await this.setPublishVolume(volume);
  }

  /**
   * Local playback volume. This headless client has no speaker: the value is kept and reported, and only the
   * publish volume reaches the mix.
   */
  async setPlayVolume(volume: number): Promise<void> {
    this.alive();
    checkVolume(volume);
    this.playVolume = volume;
  }

  /** Volume of the player in the published stream (through the mixer). */
  async setPublishVolume(volume: number): Promise<void> {
    this.alive();
    checkVolume(volume);
    this.publishVolume = volume;
    if (this.mixer && this.mixerInput !== undefined) this.mixer.setVolume(this.mixerInput, volume);
  }

  async getPlayVolume(): Promise<number> {
    return this.playVolume;
  }

  async getPublishVolume(): Promise<number> {
    return this.publishVolume;
  }

  /** Mixes the player into the published stream (default off). */
  async enableAux(enable: boolean): Promise<void> {
    this.alive();
    this.aux = enable;
    if (this.mixer && this.mixerInput !== undefined) this.mixer.setMuted(this.mixerInput, !enable);
  }

  get auxEnabled(): boolean {
    return this.aux;
  }

  async getAudioTrackCount(): Promise<number> {
    return this.playback?.trackCount ?? 0;
  }

  /** Dual-track accompaniment: 0 = accompaniment, 1 = original. 1008040 for a track the file lacks. */
  async setAudioTrackIndex(index: number): Promise<void> {
    const pb = this.loaded();
    if (!Number.isInteger(index) || index < 0 || index >= pb.trackCount) {
      throw new ZegoError(1008040, `track ${index} of ${pb.trackCount}`);
    }
    pb.track = index;
  }

  async getTotalDuration(): Promise<number> {
    return this.playback?.durationMs ?? 0;
  }

  async getCurrentProgress(): Promise<number> {
    return this.playback?.positionMs ?? 0;
  }

  /**
   * Not in the SDK: getCurrentProgress's value, synchronously, for followers read on every 10 ms frame (a
   * lyric view) that must not allocate a Promise per frame.
   */
  get currentProgressMs(): number {
    return this.playback?.positionMs ?? 0;
  }

  async getCurrentState(): Promise<State> {
    return this.current;
  }

  /** Unloads, leaves the mixer and frees the slot; later calls throw 1008001. */
  destroy(): void {
    if (this.destroyed) return;
    this.unload();
    if (this.mixer && this.mixerInput !== undefined) this.mixer.remove(this.mixerInput);
    this.destroyed = true;
    this.onDestroy?.(this);
  }

  /** The mixer's pull: the next 10 ms while playing, silence otherwise. Allocation-free. */
  private pull(out: Int16Array): number {
    const pb = this.playback;
    if (this.current !== ZegoMediaPlayerState.Playing || pb === null) {
      out.fill(0);
      return 0;
    }
    const n = pb.read(out);
    const prog = this.progressive;
    if (prog !== null && prog === pb) {
      const failed = prog.failure;
      if (failed !== 0) {
        this.unload(failed);
        return n;
      }
      if (prog.buffering !== this.buffering) {
        this.buffering = prog.buffering;
        const ev = this.buffering
          ? ZegoMediaPlayerNetworkEvent.BufferBegin
          : ZegoMediaPlayerNetworkEvent.BufferEnded;
        this.emit("onMediaPlayerNetworkEvent", this, ev);
        if (this.playback !== pb) return n;
      }
    }
    const interval = this.progressInterval;
    if (interval > 0) {
      const pos = pb.positionMs;
      if (pos >= this.nextProgressAt) {
        this.nextProgressAt = pos + interval;
        this.emit("onMediaPlayerPlayingProgress", this, pos);
      }
    }
    // A progress listener may have stopped, paused or reloaded the player: only the same, still playing
    // playback can end here.
    if (pb.ended && this.playback === pb && this.current === ZegoMediaPlayerState.Playing) {
      this.setState(ZegoMediaPlayerState.PlayEnded);
    }
    return n;
  }

  private setState(state: State, errorCode = 0): void {
    if (state === this.current && errorCode === 0) return;
    this.current = state;
    this.emit("onMediaPlayerStateUpdate", this, state, errorCode);
  }

  /** Unloads; `errorCode` (a failed download under a progressive load) is reported with NoPlay. */
  private unload(errorCode = 0): void {
    const pb = this.playback;
    if (!pb) return;
    this.playback = null;
    this.progressive = null;
    this.buffering = false;
    pb.close();
    this.setState(ZegoMediaPlayerState.NoPlay, errorCode);
  }

  private alive(): void {
    if (this.destroyed) throw new ZegoError(1008001, "the player was destroyed");
  }

  private loaded(): PlaybackLike {
    this.alive();
    if (!this.playback) throw new ZegoError(1008003);
    return this.playback;
  }
}
