import { WavBytesReader } from "../audio/wav-bytes.ts";
import { FRAME_FRAMES, FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE } from "../mixer/frame.ts";
import { ResampledSource } from "../mixer/resampled-source.ts";
import { WavFileReader } from "../mixer/wav-reader.ts";
import { seekRestartMs } from "./seek-grid.ts";
import { DEFAULT_BLOCK_FRAMES, TrackReader, trackLayout } from "./track-reader.ts";

// One opened file at a play position, as 48 kHz stereo frames: WavFileReader (streams from disk) ->
// TrackReader (one track's channels) -> ResampledSource (the mixer's resampler). The position is counted in
// output frames actually read, so it advances exactly as fast as the owner of the clock pulls. The file may
// also be bytes in memory (a download kept out of the filesystem): a WavBytesReader stands in for the file.
// shared-playback.ts plays the same surface from a worker's shared, already resampled audio.

/** What the media player drives: one loaded resource at a play position. */
export interface PlaybackLike {
  readonly durationMs: number;
  readonly trackCount: number;
  track: number;
  readonly positionMs: number;
  readonly ended: boolean;
  seek(ms: number): void;
  read(out: Int16Array): number;
  close(): void;
}

type WavInput = WavFileReader | WavBytesReader;

export class Playback implements PlaybackLike {
  readonly durationMs: number;
  private readonly wav: WavInput;
  private readonly tracks: TrackReader;
  private source: ResampledSource;
  private baseMs = 0;
  /** 48 kHz frames read since baseMs. */
  private pulled = 0;
  private finished = false;
  /** Frames a seek left to drop before the next read, and where they go (made by the first seek that skips). */
  private skip = 0;
  private scratch: Int16Array | null = null;

  private constructor(file: string | Uint8Array, quality: "normal" | "hq" | "sq") {
    this.wav =
      typeof file === "string" ? new WavFileReader(file, DEFAULT_BLOCK_FRAMES) : new WavBytesReader(file);
    try {
      if (this.wav.frames === 0) throw new Error("wav: no audio");
      this.tracks = new TrackReader(this.wav, trackLayout(this.wav.channels, quality));
    } catch (err) {
      this.wav.close();
      throw err;
    }
    this.durationMs = Math.round((this.wav.frames * 1000) / this.wav.sampleRate);
    this.source = new ResampledSource(this.tracks);
  }

  /** Opens a cached resource file; throws on a file that is not 16-bit PCM WAV. */
  static open(path: string, quality: "normal" | "hq" | "sq"): Playback {
    return new Playback(path, quality);
  }

  /** Plays a WAV file's bytes held in memory (not copied); throws on bytes that are not 16-bit PCM WAV. */
  static fromBytes(bytes: Uint8Array, quality: "normal" | "hq" | "sq"): Playback {
    return new Playback(bytes, quality);
  }

  get trackCount(): number {
    return this.tracks.layout.tracks;
  }

  get track(): number {
    return this.tracks.track;
  }

  set track(index: number) {
    this.tracks.track = index;
  }

  /** Play position in ms (never past the duration). */
  get positionMs(): number {
    return Math.min(this.durationMs, this.baseMs + Math.floor((this.pulled * 1000) / SAMPLE_RATE));
  }

  /** True once a read reached the end of the file. */
  get ended(): boolean {
    return this.finished;
  }

  /**
   * Moves to `ms` (0..duration): restarts the resampler at the seek grid point at or before it (seek-grid.ts);
   * the first read after it first reads and drops the frames up to `ms` (after any track switch made
   * meanwhile, as the shared path's stream of that track would), so the samples are the shared path's.
   * Allocates a fresh resampler: a seek is a control call, not per frame.
   */
  seek(ms: number): void {
    const restart = seekRestartMs(ms);
    this.wav.seek(Math.floor((restart * this.wav.sampleRate) / 1000));
    this.tracks.reset();
    this.source = new ResampledSource(this.tracks);
    this.baseMs = ms;
    this.pulled = 0;
    this.finished = ms >= this.durationMs;
    this.skip = (ms - restart) / FRAME_MS;
    if (this.skip > 0) this.scratch ??= new Int16Array(FRAME_SAMPLES);
  }

  /** Fills one 10 ms frame; returns the real sample frames (fewer than a frame at the end). */
  read(out: Int16Array): number {
    if (this.skip > 0) this.dropSkipped();
    if (this.finished) {
      out.fill(0);
      return 0;
    }
    const n = this.source.read(out);
    this.pulled += n;
    if (n < FRAME_FRAMES) this.finished = true;
    return n;
  }

  private dropSkipped(): void {
    const scratch = this.scratch!;
    for (; this.skip > 0; this.skip--) {
      if (this.source.read(scratch) < FRAME_FRAMES) {
        this.finished = true;
        this.skip = 0;
        break;
      }
    }
  }

  close(): void {
    this.wav.close();
  }
}
