import { FRAME_MS } from "../mixer/frame.ts";
import type { ZegoMediaPlayer } from "../player/media-player.ts";
import { ZegoMediaPlayerState } from "../player/state.ts";

// Pause / resume / seek while a singer publishes, as a user of the SDK does them (spec §6: pause, resume and
// seekTo on the media player). What happens is planned from the run's seed before the first frame and done by
// frame number from the mix handler, so the same seed publishes the same samples, whatever the wall clock did:
//
//   pause   with probability pauseProb, once, at a frame in the first half of the publish time; resumed
//           `pauseMs` later (also by frames). While paused the player yields silence and no real frames, and
//           its position stands still; the microphone (the voice) goes on, as the SDK's main stream does.
//   seek    with probability seekProb, once, in the second half: back to a whole second of the song at or
//           before the position reached (a user singing a part again). Whole seconds land on the player's
//           seek grid (player/seek-grid.ts): on shared audio every VU seeking there reads one stream; the
//           per-VU path skips nothing.
//   drop    with probability dropProb, once, in the first half: the client's network link drops (a Wi-Fi
//           handover: engine.simulateNetworkDrop). The room session reconnects with backoff and publishes
//           again; frames mixed meanwhile are dropped, and the run reports the reconnect (media-reconnect).
//
// A pause and a seek that would fall after the song's end never happen (the run ends at the song's end).

export interface PlayerActionOptions {
  /** Probability (0..1) that the run pauses once. Default 0. */
  pauseProb?: number;
  /** Probability (0..1) that the run seeks once. Default 0. */
  seekProb?: number;
  /** How long a pause lasts, ms (a multiple of 10). Default 1000. */
  pauseMs?: number;
  /** Probability (0..1) that the client's link drops once while publishing (it reconnects). Default 0. */
  dropProb?: number;
}

export interface PlayerActionPlan {
  /** Frame after which the player pauses, and after which it resumes; null: no pause. */
  pause: { atFrame: number; resumeFrame: number } | null;
  /** Frame after which the player seeks, and the share (0..1) of the position reached it goes back to. */
  seek: { atFrame: number; back: number } | null;
  /** Frame after which the network link drops; null: no drop. */
  drop: { atFrame: number } | null;
}

/** What a run's player actions did (PipelineResult.player). */
export interface PlayerActionReport {
  pauses: number;
  resumes: number;
  seeks: number;
  /** Frames published while the player was paused. */
  paused_frames: number;
  /** Each seek's target, ms in the resource. */
  seek_targets_ms: number[];
  /** seekTo answers other than 0 (e.g. 1017006), each also in `errors`. */
  seek_errors: number;
  /** Network link drops made (each followed by the engine's reconnect). */
  drops: number;
  // What the player showed (its getCurrentProgress), so a judge checks the player's behaviour, not the plan:
  /** The position right after the pause, ms; null without a pause. */
  paused_at_ms: number | null;
  /** The position on the frame the pause was planned to end (before resume), ms: equal to paused_at_ms when
   * the pause held the position; null when that frame was not reached. */
  resume_at_ms: number | null;
  /** The position right after each seek, ms (equal to seek_targets_ms when the seek landed). */
  seek_landed_ms: number[];
}

export const DEFAULT_PAUSE_MS = 1000;

/** Every problem with the options, as "player.field: why". */
export function checkPlayerActions(o: PlayerActionOptions | undefined): string[] {
  if (o === undefined) return [];
  const errors: string[] = [];
  for (const k of ["pauseProb", "seekProb", "dropProb"] as const) {
    const v = o[k];
    if (v !== undefined && !(typeof v === "number" && v >= 0 && v <= 1)) {
      errors.push(`player.${k}: must be a number in 0..1`);
    }
  }
  const p = o.pauseMs;
  if (p !== undefined && !(Number.isInteger(p) && p >= FRAME_MS && p <= 60_000 && p % FRAME_MS === 0)) {
    errors.push(`player.pauseMs: must be a multiple of ${FRAME_MS} in ${FRAME_MS}..60000`);
  }
  return errors;
}

/** mulberry32: a tiny seeded generator (the plan is data of the seed, not of Math.random). */
function rng(seed: number): () => number {
  let a = (seed ^ 0x5bd1e995) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The plan for a publish of `frames` frames (finite: the run's `seconds`, or the song's length when it plays to
 * the end). Nothing is planned for a publish shorter than 4 frames.
 */
export function planPlayerActions(seed: number, o: PlayerActionOptions, frames: number): PlayerActionPlan {
  const r = rng(seed);
  const uPause = r();
  const uPauseAt = r();
  const uSeek = r();
  const uSeekAt = r();
  const uBack = r();
  const uDrop = r();
  const uDropAt = r();
  if (!Number.isFinite(frames) || frames < 4) return { pause: null, seek: null, drop: null };
  const half = Math.floor(frames / 2);
  const pauseFrames = (o.pauseMs ?? DEFAULT_PAUSE_MS) / FRAME_MS;
  const pauseAt = 1 + Math.floor(uPauseAt * (half - 1));
  const pause = uPause < (o.pauseProb ?? 0) ? { atFrame: pauseAt, resumeFrame: pauseAt + pauseFrames } : null;
  const seekAt = half + Math.floor(uSeekAt * (frames - half - 1));
  const seek = uSeek < (o.seekProb ?? 0) ? { atFrame: seekAt, back: uBack } : null;
  // In the first half from an eighth on: the reconnect (backoff from 0..250 ms) has time to land.
  const dropAt = Math.floor(frames / 8) + Math.floor(uDropAt * (half - Math.floor(frames / 8)));
  const drop = uDrop < (o.dropProb ?? 0) ? { atFrame: dropAt } : null;
  return { pause, seek, drop };
}

/**
 * Runs a plan from the mix handler: `onFrame(frame)` after each mixed frame (synchronous: the player's pause,
 * resume and seekTo take effect before they return, so the next frame already reflects them). Allocation-free
 * per frame; a seek allocates once (the player's control call).
 */
export class PlayerActionRunner {
  readonly report: PlayerActionReport = {
    pauses: 0,
    resumes: 0,
    seeks: 0,
    paused_frames: 0,
    seek_targets_ms: [],
    seek_errors: 0,
    drops: 0,
    paused_at_ms: null,
    resume_at_ms: null,
    seek_landed_ms: [],
  };

  constructor(
    private readonly player: ZegoMediaPlayer,
    private readonly plan: PlayerActionPlan,
    /** The position the player was loaded at (after a seek: the seek's target), ms. */
    private startMs: number,
    private readonly onError: (code: number) => void,
    /** Drops the network link (the engine's simulateNetworkDrop). */
    private readonly dropLink: () => void = () => {},
  ) {}

  /** Real audio frames the player gave since the load (its position is startMs + 10 ms × these). */
  private playedFrames = 0;

  onFrame(frame: number): void {
    const p = this.player;
    const st = p.state;
    if (st === ZegoMediaPlayerState.Playing) this.playedFrames++;
    else if (st === ZegoMediaPlayerState.Pausing) this.report.paused_frames++;
    const { pause, seek, drop } = this.plan;
    if (drop !== null && frame === drop.atFrame) {
      this.dropLink();
      this.report.drops++;
    }
    if (pause !== null) {
      if (frame === pause.atFrame && st === ZegoMediaPlayerState.Playing) {
        void p.pause();
        this.report.pauses++;
        this.report.paused_at_ms = p.currentProgressMs;
      } else if (frame === pause.resumeFrame) {
        this.report.resume_at_ms = p.currentProgressMs;
        if (st === ZegoMediaPlayerState.Pausing) {
          void p.resume();
          this.report.resumes++;
        }
      }
    }
    if (seek !== null && frame === seek.atFrame && st === ZegoMediaPlayerState.Playing) {
      const reachedS = Math.floor((this.startMs + this.playedFrames * FRAME_MS) / 1000);
      const target = Math.floor(seek.back * (reachedS + 1)) * 1000;
      void p.seekTo(target).then((r) => {
        if (r.errorCode !== 0) {
          this.report.seek_errors++;
          this.onError(r.errorCode);
        }
      });
      this.report.seeks++;
      this.report.seek_targets_ms.push(target);
      this.report.seek_landed_ms.push(p.currentProgressMs);
      this.startMs = target;
      this.playedFrames = 0;
    }
  }
}
