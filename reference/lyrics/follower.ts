import type { LyricTimeline } from "./timeline.ts";

// Follows a song's lyric lines in time with the media player, the way a lyric view does, at the cost of one
// subtraction and two comparisons per 10 ms frame. It is driven from the publish clock's existing tick (the
// pipeline calls advance() from its mixed-audio handler), never from a timer of its own: a thread holds
// hundreds of singers, and one more timer or Promise per frame and singer is exactly the per-frame cost the
// load worker cannot afford (issue 10). Nothing is allocated after construction: the drift samples go into
// an Int32Array sized for one pass over the song.
//
// Time bases: the player reports the position in its file; a clip or segment file starts at the song's
// `segment_begin`, while the lyric lines are timed on the whole song (spec §4, "Clips"). So
//   lyric time = player position + segment_begin            (clips and segments)
//   lyric time = player position + krc_format_offset        (whole songs: ZEGO's ZegoLyricModel shows a line at
//                                                             begin_time - krc_format_offset, and does not
//                                                             correct clips: ZegoLyricViewConfig.shouldTrimBeginTime)
// and a line is shown on the first tick whose lyric time reaches its begin_time. Its drift is how far past
// its begin the player already was when it was shown: at most one frame (10 ms) on a punctual clock, more
// when ticks ran late. A position that moves backwards (a seek) relocates the current line silently; so does
// seek() for a forward seek: neither is a line "shown" late.

export interface FollowerOptions {
  /**
   * Song time (ms) at player position 0: a clip's / segment's `segment_begin`. Given, the file is a part of the
   * song and the KRC's krc_format_offset is not applied (as ZEGO's lyric view does for clips); absent, a whole
   * song, shifted by the offset.
   */
  songOffsetMs?: number;
}

export class LyricFollower {
  /** Index (into the timeline) of the line showing now, -1 before the first. */
  current = -1;
  /** Lines made current by playback reaching them. */
  shown = 0;
  /** Lines passed within one tick behind another (only the last of them is shown). */
  skipped = 0;
  /** Largest drift of a shown line, ms. */
  maxDriftMs = 0;
  /** Sum of the drifts of the shown lines, ms (mean = sumDriftMs / shown). */
  sumDriftMs = 0;
  private readonly begins: Int32Array;
  private readonly shift: number;
  private nextBegin: number;
  private currentBegin = Number.NEGATIVE_INFINITY;
  private readonly drifts: Int32Array;
  private driftCount = 0;

  constructor(
    readonly timeline: LyricTimeline,
    o: FollowerOptions = {},
  ) {
    this.begins = timeline.begins;
    this.shift = o.songOffsetMs ?? timeline.offsetMs;
    this.nextBegin = this.begins.length > 0 ? this.begins[0]! : Number.POSITIVE_INFINITY;
    this.drifts = new Int32Array(this.begins.length);
  }

  /** Per frame, with the player's position (ms in its file). O(1) unless a line boundary was passed. */
  advance(positionMs: number): void {
    const t = positionMs + this.shift;
    if (t < this.nextBegin) {
      if (t < this.currentBegin) this.relocate(t);
      return;
    }
    const begins = this.begins;
    let i = this.current + 1;
    while (i + 1 < begins.length && begins[i + 1]! <= t) i++;
    this.skipped += i - this.current - 1;
    this.current = i;
    this.shown++;
    const drift = t - begins[i]!;
    if (drift > this.maxDriftMs) this.maxDriftMs = drift;
    this.sumDriftMs += drift;
    if (this.driftCount < this.drifts.length) this.drifts[this.driftCount++] = drift;
    this.currentBegin = begins[i]!;
    this.nextBegin = i + 1 < begins.length ? begins[i + 1]! : Number.POSITIVE_INFINITY;
  }

  /** The app seeked the player: show the line at the new position without counting it as shown late. */
  seek(positionMs: number): void {
    this.relocate(positionMs + this.shift);
  }

  /** Drift of each shown line in order, ms (a view: copy what you keep; at most one per line). */
  get driftsMs(): Int32Array {
    return this.drifts.subarray(0, this.driftCount);
  }

  /** Lines whose begin lies at or before the lyric time `t`: the last of them becomes current. */
  private relocate(t: number): void {
    const begins = this.begins;
    let lo = 0;
    let hi = begins.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (begins[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    this.current = lo - 1;
    this.currentBegin = lo > 0 ? begins[lo - 1]! : Number.NEGATIVE_INFINITY;
    this.nextBegin = lo < begins.length ? begins[lo]! : Number.POSITIVE_INFINITY;
  }
}
