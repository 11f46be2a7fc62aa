import type { StreamCursor } from "../audio/rendered-stream.ts";
import type { SharedSong } from "../audio/shared-audio.ts";
import { FRAME_FRAMES, SAMPLE_RATE } from "../mixer/frame.ts";
import type { PlaybackLike } from "./playback.ts";
import { seekRestartMs } from "./seek-grid.ts";

// Playback's surface over a worker's shared audio (audio/shared-audio.ts): the song is decoded and resampled
// once per thread, and this playback is a cursor into it. Position, end of song, seek and the frame count are
// exactly Playback's, and so are the samples: a stream is keyed by (content, track layout, track, start frame)
// and equals a fresh per-VU resampler from that frame.
//
// Differences, both in control calls only: a seek reads the stream of its grid point (seek-grid.ts) from the
// target's offset in it: the cursor moves inside the stream it already holds when the grid point is the same
// (no stream opened or released), else it opens that grid point's stream (as Playback's fresh resampler
// restarts there); a track switch moves to the other track's stream at the same output position, so the
// switch is sample-accurate instead of letting the ~10 ms of the old track already inside the per-VU resampler
// play out first.

export class SharedPlayback implements PlaybackLike {
  readonly durationMs: number;
  private cursor: StreamCursor | null = null;
  private trackIndex = 0;
  private startFrame = 0;
  private baseMs = 0;
  private pulled = 0;
  private finished = false;

  constructor(private readonly song: SharedSong) {
    this.durationMs = Math.round((song.frames * 1000) / song.sampleRate);
  }

  get trackCount(): number {
    return this.song.layout.tracks;
  }

  get track(): number {
    return this.trackIndex;
  }

  set track(index: number) {
    if (!Number.isInteger(index) || index < 0 || index >= this.song.layout.tracks) {
      throw new RangeError(`track ${index} outside 0..${this.song.layout.tracks - 1}`);
    }
    if (index === this.trackIndex) return;
    this.trackIndex = index;
    const old = this.cursor;
    if (old) {
      this.cursor = this.song.cursor(index, this.startFrame, old.position);
      old.close();
    }
  }

  get positionMs(): number {
    return Math.min(this.durationMs, this.baseMs + Math.floor((this.pulled * 1000) / SAMPLE_RATE));
  }

  get ended(): boolean {
    return this.finished;
  }

  seek(ms: number): void {
    const restart = seekRestartMs(ms);
    const startFrame = Math.floor((restart * this.song.sampleRate) / 1000);
    // Output frames (48 kHz) from the grid point to the target: whole 10 ms frames.
    const offset = ((ms - restart) * SAMPLE_RATE) / 1000;
    this.baseMs = ms;
    this.pulled = 0;
    this.finished = ms >= this.durationMs;
    if (this.finished) {
      this.cursor?.close();
      this.cursor = null;
      this.startFrame = startFrame;
      return;
    }
    if (this.cursor !== null && startFrame === this.startFrame) {
      // Same stream: a position write. The stream renders up to it on the next read if it has not yet.
      this.cursor.position = offset;
      return;
    }
    this.cursor?.close();
    this.startFrame = startFrame;
    // Opened here, in the control call: a new stream designs its resampler's filter (up to ~ms at 44.1 kHz).
    this.cursor = this.song.cursor(this.trackIndex, startFrame, offset);
  }

  read(out: Int16Array): number {
    if (this.finished) {
      out.fill(0);
      return 0;
    }
    if (this.cursor === null) this.cursor = this.song.cursor(this.trackIndex, this.startFrame, 0);
    const n = this.cursor.read(out);
    this.pulled += n;
    if (n < FRAME_FRAMES) this.finished = true;
    return n;
  }

  /** The cursor's stream (tests: which shared buffer this playback reads). */
  get stream(): StreamCursor["stream"] | null {
    return this.cursor?.stream ?? null;
  }

  close(): void {
    this.cursor?.close();
    this.cursor = null;
    this.song.close();
  }
}
