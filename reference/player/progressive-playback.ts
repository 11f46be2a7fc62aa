import { copyTrack, parseWavBytes } from "../audio/wav-bytes.ts";
import { FRAME_FRAMES, SAMPLE_RATE } from "../mixer/frame.ts";
import { ResampledSource } from "../mixer/resampled-source.ts";
import type { PcmReader } from "../mixer/source.ts";
import type { PlaybackLike } from "./playback.ts";
import type { ProgressiveFile } from "./progressive-file.ts";
import { TrackReader, trackLayout } from "./track-reader.ts";

// Playback of a file that is still downloading (progressive-file.ts): Playback's chain (reader -> TrackReader
// -> ResampledSource) over the bytes that have arrived. Before each 10 ms frame it checks that the input the
// frame can consume is there; when it is not (the download fell behind the play position) the frame is
// silence and the position does not move: the player reports buffering, and resumes where it stopped once the
// bytes arrive. Samples and position are otherwise exactly Playback's over the same file, because the chain
// and the reads are the same (a read never returns fewer frames than asked unless the file ends).

/** A WavBytesReader whose readable frames end where the download is. */
class ArrivedWavReader implements PcmReader {
  readonly sampleRate: number;
  readonly channels: number;
  /** The whole file's frames (from the header). */
  readonly frames: number;
  private readonly dataOffset: number;
  private readonly blockAlign: number;
  private position = 0;

  constructor(private readonly file: ProgressiveFile) {
    // The buffer has the announced size, so the data chunk's length is the header's (capped by the size).
    const layout = parseWavBytes(file.bytes);
    this.sampleRate = layout.sampleRate;
    this.channels = layout.channels;
    this.frames = layout.frames;
    this.dataOffset = layout.dataOffset;
    this.blockAlign = layout.channels * 2;
  }

  get frame(): number {
    return this.position;
  }

  /** Frames whose bytes have arrived. */
  get arrivedFrames(): number {
    if (this.file.whole) return this.frames;
    const n = Math.floor((this.file.available - this.dataOffset) / this.blockAlign);
    return Math.max(0, Math.min(this.frames, n));
  }

  seek(frame: number): void {
    this.position = Math.max(0, Math.min(this.frames, Math.floor(frame)));
  }

  read(out: Int16Array, maxFrames: number): number {
    const ch = this.channels;
    const n = Math.min(maxFrames, this.arrivedFrames - this.position, (out.length / ch) | 0);
    if (n <= 0) return 0;
    copyTrack(this.file.bytes, this.dataOffset, ch, this.position, n, 0, ch, out);
    this.position += n;
    return n;
  }
}

/** Bytes of `file` (a WAV with this header) needed to play from `ms` for `prerollMs`; null before the header. */
export function bytesToPlay(file: ProgressiveFile, ms: number, prerollMs: number): number | null {
  let layout: ReturnType<typeof parseWavBytes>;
  try {
    layout = parseWavBytes(file.bytes.subarray(0, file.available));
  } catch {
    return null;
  }
  const frame = Math.ceil(((ms + prerollMs) * layout.sampleRate) / 1000);
  return Math.min(file.size, layout.dataOffset + frame * layout.channels * 2);
}

export class ProgressivePlayback implements PlaybackLike {
  readonly durationMs: number;
  private readonly wav: ArrivedWavReader;
  private readonly tracks: TrackReader;
  private source: ResampledSource;
  /** Input frames one output frame may pull beyond what the chain holds (see `ready`). */
  private readonly margin: number;
  private baseMs = 0;
  private pulled = 0;
  private finished = false;
  private waiting = false;
  private stalls = 0;

  /** Throws when the arrived bytes do not start a 16-bit PCM WAV (the player's 1017015). */
  constructor(
    readonly file: ProgressiveFile,
    quality: "normal" | "hq" | "sq",
  ) {
    this.wav = new ArrivedWavReader(file);
    if (this.wav.frames === 0) throw new Error("wav: no audio");
    this.tracks = new TrackReader(this.wav, trackLayout(this.wav.channels, quality));
    this.durationMs = Math.round((this.wav.frames * 1000) / this.wav.sampleRate);
    this.source = new ResampledSource(this.tracks);
    // One output frame consumes ~10 ms of input; ResampledSource reads it in chunks of up to 10 ms (at least
    // 64 frames), and the resampler's filter looks ahead a few dozen. Twice that, plus 256, is a bound that
    // never lets a read come back short before the file's end.
    const tenMs = Math.ceil(this.wav.sampleRate / 100);
    this.margin =
      2 * (Math.ceil((FRAME_FRAMES * this.wav.sampleRate) / SAMPLE_RATE) + Math.max(64, tenMs)) + 256;
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

  get positionMs(): number {
    return Math.min(this.durationMs, this.baseMs + Math.floor((this.pulled * 1000) / SAMPLE_RATE));
  }

  get ended(): boolean {
    return this.finished;
  }

  /** True while the play position waits for bytes (the last frame was buffering silence). */
  get buffering(): boolean {
    return this.waiting;
  }

  /** Frames of silence played while waiting for bytes. */
  get bufferingFrames(): number {
    return this.stalls;
  }

  /** The download's error once it failed (the player stops with it), else 0. */
  get failure(): number {
    return this.file.state === "failed" ? this.file.code || 1017015 : 0;
  }

  seek(ms: number): void {
    this.wav.seek(Math.floor((ms * this.wav.sampleRate) / 1000));
    this.tracks.reset();
    this.source = new ResampledSource(this.tracks);
    this.baseMs = ms;
    this.pulled = 0;
    this.finished = ms >= this.durationMs;
  }

  read(out: Int16Array): number {
    if (this.finished || this.file.state === "failed" || !this.ready()) {
      if (!this.finished && this.file.state !== "failed") {
        this.waiting = true;
        this.stalls++;
      }
      out.fill(0);
      return 0;
    }
    this.waiting = false;
    const n = this.source.read(out);
    this.pulled += n;
    if (n < FRAME_FRAMES) this.finished = true;
    return n;
  }

  close(): void {}

  /** Whether the next frame's input is there: all of the file, or `margin` frames past what the chain holds. */
  private ready(): boolean {
    const arrived = this.wav.arrivedFrames;
    if (arrived >= this.wav.frames) return true;
    return this.tracks.buffered + (arrived - this.wav.frame) >= this.margin;
  }
}
