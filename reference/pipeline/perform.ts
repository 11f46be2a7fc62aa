import type { FrameHeader } from "../../protocol/media.ts";
import { profileForSeed } from "../audio/shared-voice.ts";
import type { ZegoExpressEngine } from "../engine/engine.ts";
import type { EngineCopyrightedMusic } from "../engine/engine-music.ts";
import { FRAMES_PER_PACKET } from "../engine/frame-packer.ts";
import { ZegoRoomState } from "../engine/types.ts";
import type { LyricFollower } from "../lyrics/follower.ts";
import { FRAME_MS } from "../mixer/frame.ts";
import type { PcmSource } from "../mixer/source.ts";
import { type PitchNote, VoiceSource } from "../mixer/voice.ts";
import { WavWriter } from "../mixer/wav.ts";
import type { ZegoMediaPlayer } from "../player/media-player.ts";
import { ZegoMediaPlayerState } from "../player/state.ts";
import { ScoredMicrophone, type ScoreReport, scoreReport } from "../scoring/scored-mic.ts";
import { Scorer } from "../scoring/scorer.ts";
import {
  IN_TUNE,
  parseSinger,
  type SingerProfile,
  singerForSeed,
  singerVoice,
  sungPitchLine,
} from "../scoring/singer.ts";
import type { Acquired, Failure } from "./acquire.ts";
import { DEFAULT_LISTEN_SECONDS, type ResolvedConfig } from "./config.ts";
import type { Candidate } from "./pick-song.ts";
import { type PlayerActionReport, PlayerActionRunner, planPlayerActions } from "./player-actions.ts";
import { markFirstPacket, type PipelineResult, type Recorder } from "./result.ts";

// The last steps of the flow: load the downloaded song into a media player, start it, mix it with the voice
// (a VoiceSource singing the song's standard pitch line) and publish; play the listened streams and measure
// their end-to-end latency. Publishing stops after exactly `seconds` of audio, or at the first whole packet
// after the song ends: the published samples depend on the frame count, never on wall-clock timing.

export interface PerformContext {
  engine: ZegoExpressEngine;
  music: EngineCopyrightedMusic;
  rec: Recorder;
  cfg: ResolvedConfig;
  signal: AbortSignal;
  /** The media player loadSong created (a kept login destroys it after the song). */
  player?: ZegoMediaPlayer;
}

export interface Loaded {
  player: ZegoMediaPlayer;
  pitch: PitchNote[];
  /** Lyrics to follow while publishing (config `lyrics`), advanced once per 10 ms frame. */
  lyrics?: LyricFollower | null;
}

/**
 * loadCopyrightedMusicResourceWithPosition (or, for a song still downloading, the player's
 * loadDownloadingResource) + getStandardPitch (a song without a pitch line sings nothing). `pitch`: the pitch
 * call already under way, if it was started during the download.
 */
export async function loadSong(
  ctx: PerformContext,
  acquired: Acquired,
  pitch?: Promise<{ errorCode: number; pitch: string }>,
): Promise<Loaded | Failure> {
  const { engine, music, rec, cfg } = ctx;
  return rec.stage("load", async (): Promise<Loaded | Failure> => {
    const player = await engine.createMediaPlayer();
    ctx.player = player;
    const stream = acquired.stream;
    const l = stream
      ? await player.loadDownloadingResource(stream.file, acquired.quality, cfg.startPositionMs)
      : await player.loadCopyrightedMusicResourceWithPosition(acquired.resourceID, cfg.startPositionMs);
    if (l.errorCode !== 0) {
      rec.error(l.errorCode);
      return {
        ok: false,
        stage: "load",
        code: l.errorCode,
        message: `load of ${acquired.resourceID} failed`,
      };
    }
    if (!hasPitchLine(cfg.resourceType, acquired.song)) {
      rec.phase("loaded");
      return { player, pitch: [] };
    }
    const p = await (pitch ?? music.getStandardPitch(acquired.resourceID));
    if (p.errorCode !== 0) rec.error(p.errorCode);
    rec.phase("loaded");
    return { player, pitch: p.errorCode === 0 ? parsePitch(p.pitch) : [] };
  });
}

/**
 * Whether to ask for the standard pitch line: the original song (type 0) has none (spec §4: accompaniments and
 * clips only), nor a song whose list item says so (vendor 2's pitch_ability 2); the vendor answers both with
 * 1017075, so a careful client does not ask, and its voice sings nothing in particular.
 */
export function hasPitchLine(resourceType: number, song: Pick<Candidate, "noPitchLine">): boolean {
  return resourceType !== 0 && song.noPitchLine !== true;
}

export function parsePitch(json: string): PitchNote[] {
  try {
    const notes = (JSON.parse(json) as { pitch?: unknown }).pitch;
    if (!Array.isArray(notes)) return [];
    return notes.filter(
      (n): n is PitchNote =>
        typeof n === "object" &&
        n !== null &&
        Number.isFinite(n.begin_time) &&
        Number.isFinite(n.duration) &&
        n.begin_time >= 0 &&
        n.duration >= 0 &&
        n.value >= 10 &&
        n.value <= 90,
    );
  } catch {
    return [];
  }
}

/**
 * The synthetic singer: today's per-VU VoiceSource (seeded with `seed`), or with `voiceProfiles` one of K
 * profiles, read from the thread's shared rendering when there is one. `close` releases a shared rendering.
 */
export function voiceFor(cfg: ResolvedConfig, pitch: PitchNote[]): { source: PcmSource; close: () => void } {
  const startMs = cfg.startPositionMs;
  const singer = singerOf(cfg);
  // A singer profile sings a distorted copy of the line (late: shifted); the scorer still scores the served one.
  const sung = singer === IN_TUNE ? pitch : sungPitchLine(pitch, singer);
  if (cfg.voiceProfiles === 0) {
    const sv = singerVoice({ seed: cfg.seed, maxDetuneCents: 0 }, singer);
    return { source: new VoiceSource(sung, { ...sv, startMs }), close: () => {} };
  }
  const profile = singerVoice(profileForSeed(cfg.seed, cfg.voiceProfiles), singer);
  if (!cfg.sharedAudio) return { source: new VoiceSource(sung, { ...profile, startMs }), close: () => {} };
  const cursor = cfg.sharedAudio.voices.cursor(sung, profile, startMs);
  return { source: cursor, close: () => cursor.close() };
}

/** The VU's singer profile (config `singers`, picked by seed), in tune without them. */
export function singerOf(cfg: ResolvedConfig): SingerProfile {
  if (!cfg.singers || cfg.singers.length === 0) return IN_TUNE;
  return singerForSeed(cfg.seed, cfg.singers.map(parseSinger));
}

/**
 * Calls `onLost` with the code when the room is lost for good (kicked: 1002050, 1002056...; reconnect failed:
 * 1002053 or the refusal's code). Returns the detach function.
 */
function watchRoomLoss(engine: ZegoExpressEngine, onLost: (code: number) => void): () => void {
  const listener = (_roomID: string, state: number, errorCode: number) => {
    if (state === ZegoRoomState.Disconnected && errorCode !== 0) onLost(errorCode);
  };
  engine.on("onRoomStateUpdate", listener);
  return () => engine.off("onRoomStateUpdate", listener);
}

export interface PublishOutcome {
  report: NonNullable<PipelineResult["publish"]>;
  /** What the player actions did (cfg.player), or null without them. */
  player: PlayerActionReport | null;
  /** The code the room was lost with while publishing, or null. */
  roomLost: number | null;
  /** The download's code when a song played while downloading and the download failed, else 0. */
  downloadFailed: number;
  /** Vocal scoring (config `scoring`), or null without it. */
  score: ScoreReport | null;
}

/** Publishes accompaniment + voice until `seconds` of audio, the song's end, the abort or the room's loss. */
export async function publishSong(ctx: PerformContext, loaded: Loaded): Promise<PublishOutcome> {
  const { engine, rec, cfg, signal } = ctx;
  const { player } = loaded;
  const voice = voiceFor(cfg, loaded.pitch);
  // Scoring listens to the microphone before it is mixed, at the player's position (scored-mic.ts).
  const mic = cfg.scoring
    ? new ScoredMicrophone(voice.source, new Scorer(), () => player.currentProgressMs)
    : null;
  engine.setMicrophoneSource(mic ?? voice.source);
  engine.setCaptureVolume(cfg.voiceVolume);
  await player.setPublishVolume(cfg.accompanimentVolume);
  await player.enableAux(true);
  const wav = cfg.outPath ? new WavWriter(cfg.outPath) : null;
  const limit =
    cfg.seconds === undefined ? Number.POSITIVE_INFINITY : Math.round((cfg.seconds * 1000) / FRAME_MS);
  const actions = cfg.player ? await playerActions(ctx, player, limit) : null;
  let songEnded = false;
  /** The code a downloading song's player stopped with (its download failed), or 0. */
  let downloadFailed = 0;
  let finish = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const onState = (_p: ZegoMediaPlayer, state: number, errorCode: number) => {
    if (state === ZegoMediaPlayerState.PlayEnded) songEnded = true;
    // An app pauses scoring with the player (player actions pause it): the voice goes on, the position does not.
    if (state === ZegoMediaPlayerState.Pausing) mic?.scorer.pause();
    if (state === ZegoMediaPlayerState.Playing) mic?.scorer.resume();
    // Playing while downloading, the download failed (corrupt, expired, revoked): stop now, not at the end.
    if (state === ZegoMediaPlayerState.NoPlay && errorCode !== 0) {
      downloadFailed = errorCode;
      void engine.stopPublishingStream();
      finish();
    }
  };
  player.on("onMediaPlayerStateUpdate", onState);
  const lyrics = loaded.lyrics ?? null;
  engine.setMixedAudioDataHandler((pcm, frame) => {
    wav?.write(pcm);
    // The position after this frame's audio: a line is shown on the frame that plays its begin.
    lyrics?.advance(player.currentProgressMs);
    if (frame === 0) rec.phase("first_frame");
    markFirstPacket(rec, engine.publishedPackets);
    actions?.onFrame(frame);
    const packetDone = (frame + 1) % FRAMES_PER_PACKET === 0;
    if (frame + 1 >= limit || (songEnded && packetDone)) {
      // Stops the clock now, inside this tick: no frame after this one is mixed, so none is missing from --out.
      void engine.stopPublishingStream();
      finish();
    }
  });
  const onAbort = () => {
    void engine.stopPublishingStream();
    finish();
  };
  signal.addEventListener("abort", onAbort, { once: true });
  let roomLost: number | null = null;
  const unwatch = watchRoomLoss(engine, (code) => {
    roomLost = code;
    finish();
  });
  const status = statusTimer(ctx);
  try {
    await player.start();
    await engine.startPublishingStream(cfg.streamID);
    // startScore after the player plays and publishing started (spec §4), resetScore first as the docs do.
    if (mic && cfg.scoring) {
      mic.scorer.setScoringLevel(cfg.scoring.level ?? 4);
      mic.scorer.reset();
      mic.scorer.start(loaded.pitch, cfg.scoring.pitchValueInterval ?? 50);
    }
    rec.phase("publishing");
    rec.event({ type: "publishing", stream_id: cfg.streamID });
    await done;
  } finally {
    clearInterval(status);
    unwatch();
    signal.removeEventListener("abort", onAbort);
    player.off("onMediaPlayerStateUpdate", onState);
    await engine.stopPublishingStream();
    engine.setMixedAudioDataHandler(null);
    mic?.scorer.stop();
    voice.close();
    wav?.close();
  }
  const st = engine.getPublishStats();
  const report = {
    stream_id: cfg.streamID,
    seconds: (st.framesMixed * FRAME_MS) / 1000,
    frames_mixed: st.framesMixed,
    packets_sent: st.packetsSent,
    packets_dropped: st.packetsDropped,
    codec: st.codec,
    bytes_sent: st.bytesSent,
    reconnects: engine.reconnectCount,
  };
  const score =
    mic && cfg.scoring
      ? scoreReport(mic, {
          singer: singerOf(cfg).name,
          level: cfg.scoring.level ?? 4,
          intervalMs: cfg.scoring.pitchValueInterval ?? 50,
        })
      : null;
  return { report, roomLost, downloadFailed, player: actions?.report ?? null, score };
}

/** The run's player actions, planned over the frames it will publish (`limit`, or the rest of the song). */
async function playerActions(
  ctx: PerformContext,
  player: ZegoMediaPlayer,
  limit: number,
): Promise<PlayerActionRunner> {
  const { cfg, rec, engine } = ctx;
  const songFrames = Math.floor(((await player.getTotalDuration()) - cfg.startPositionMs) / FRAME_MS);
  const frames = Math.min(limit, songFrames);
  const plan = planPlayerActions(cfg.seed, cfg.player ?? {}, frames);
  return new PlayerActionRunner(
    player,
    plan,
    cfg.startPositionMs,
    (code) => rec.error(code),
    () => engine.simulateNetworkDrop(),
  );
}

/** Plays every listened stream, recording capture->receipt latency and the first packet heard. */
export async function startListening(ctx: PerformContext): Promise<void> {
  const { engine, rec, cfg } = ctx;
  const onAudio = cfg.onReceivedAudio;
  const onPacket = cfg.onReceivedPacket;
  const keep = cfg.histograms;
  // Samples (and so Opus decoding) only for a caller that asked for them; every packet is measured.
  const onFrame = onAudio
    ? (pcm: Int16Array, header: Readonly<FrameHeader>, streamID: string) => onAudio(streamID, pcm, header)
    : undefined;
  for (const id of cfg.listen) {
    await engine.startPlayingStream(id, onFrame, (header, streamID, arrivalUs) => {
      if (keep) rec.recordLatency(arrivalUs - header.captureUs);
      if (rec.stages.first_heard_ms === null) rec.stages.first_heard_ms = rec.sinceStart();
      onPacket?.(streamID, header, arrivalUs);
    });
  }
}

/**
 * Waits out the listening time of a run that does not publish, or until the abort; resolves with the code the
 * room was lost with meanwhile, or null.
 */
export function listenOnly(ctx: PerformContext): Promise<number | null> {
  const ms = (ctx.cfg.seconds ?? DEFAULT_LISTEN_SECONDS) * 1000;
  const status = statusTimer(ctx);
  return new Promise<number | null>((resolve) => {
    const end = (lost: number | null) => {
      clearTimeout(timer);
      clearInterval(status);
      unwatch();
      ctx.signal.removeEventListener("abort", onAbort);
      resolve(lost);
    };
    const onAbort = () => end(null);
    const timer = setTimeout(onAbort, ms);
    const unwatch = watchRoomLoss(ctx.engine, end);
    ctx.signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Stops playing; returns each stream's counters and the latency summary. */
export async function stopListening(ctx: PerformContext): Promise<PipelineResult["listen"]> {
  const { engine, rec, cfg } = ctx;
  if (cfg.listen.length === 0) return null;
  const streams: NonNullable<PipelineResult["listen"]>["streams"] = {};
  for (const id of cfg.listen) {
    const s = engine.getPlayStats(id);
    streams[id] = {
      frames: s?.frames ?? 0,
      bytes: s?.wireBytes ?? 0,
      lost: s?.lost ?? 0,
      reordered: s?.reordered ?? 0,
      jitter_ms: s?.jitterMs ?? 0,
      discontinuities: s?.discontinuities ?? 0,
    };
    await engine.stopPlayingStream(id);
  }
  return { streams, latency_ms: rec.latencySummary() };
}

/** The live mixing / listening report, every statusIntervalMs (an interval timer, off the audio path). */
function statusTimer(ctx: PerformContext): NodeJS.Timeout | undefined {
  const { engine, rec, cfg } = ctx;
  if (cfg.statusIntervalMs === 0 || !cfg.onEvent) return undefined;
  const t = setInterval(() => {
    const st = engine.getPublishStats();
    if (st.clock && st.framesMixed > 0) {
      rec.event({
        type: "mixing",
        seconds: (st.framesMixed * FRAME_MS) / 1000,
        frames: st.framesMixed,
        late_frames: st.clock.late_frames,
        lateness_p99_ms: st.clock.lateness_ms.p99,
        lateness_max_ms: st.clock.lateness_ms.max,
        cost_p99_us: st.clock.mix_cost_us.p99,
        packets_dropped: st.packetsDropped,
      });
    }
    for (const id of cfg.listen) {
      const s = engine.getPlayStats(id);
      if (s) {
        rec.event({
          type: "listening",
          stream_id: id,
          frames: s.frames,
          latency_p50_ms: rec.latencyP50Ms(),
        });
      }
    }
  }, cfg.statusIntervalMs);
  t.unref();
  return t;
}
