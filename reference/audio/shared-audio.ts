import { Resampler } from "../mixer/resampler.ts";
import type { WavLayout } from "../mixer/wav-reader.ts";
import { type TrackLayout, trackLayout } from "../player/track-reader.ts";
import { ContentPool, type ContentRef } from "./content-pool.ts";
import { DEFAULT_BUDGET_BYTES, RenderStore, type RenderStoreStats } from "./render-store.ts";
import {
  allocStreamHeader,
  DEFAULT_CHUNK_FRAMES,
  RenderedStream,
  type SharedChunks,
  type StreamCursor,
} from "./rendered-stream.ts";
import { copyTrack, parseWavBytes } from "./wav-bytes.ts";

// A worker's shared accompaniment: a song's decoded, resampled 48 kHz stereo audio exists once per thread and
// every VU that plays it reads it through its own cursor. Today's per-VU path (player/playback.ts: WavFileReader
// -> TrackReader -> ResampledSource) costs a file read and a resampler per VU (Resampler.read was 44% of a
// singer's publish path); here one resampler per (content, track layout, track, start frame) renders lazily.
//
// Keyed by content: the bytes are interned in a ContentPool (byte equality, not song ids or URLs), so two
// different files under one song id never share. The start frame is part of the key because a seek restarts
// the resampler (the filter's history is silence before the start): the rendered stream is, sample for sample,
// what a fresh ResampledSource over that track from that frame produces (the resampler's output depends only
// on its input samples, never on how they were chunked; shared-audio.test.ts compares both paths).

export interface SharedAudioOptions {
  /** Rendered bytes kept for streams nobody reads before the oldest go (default 256 MiB). */
  budgetBytes?: number;
  /** Output frames per rendered chunk, a multiple of 480 (default 4,800: 100 ms). */
  chunkFrames?: number;
  /** Where song bytes are interned (default a pool of its own); share one with a memory download cache. */
  pool?: ContentPool;
  /**
   * In the process's arena, keep a mono track's rendering mono: half the bytes, but a reader then writes both
   * channels sample by sample, ~1 µs per 10 ms against ~0.1 µs for a stereo memcpy (bench/audio/process-audio.ts:
   * 2 threads x 150 VUs, 20 songs: 9.5 s of CPU with mono songs vs 8.2 s stereo, 114 vs 168 MB of arena).
   * Renderings are once per process now, CPU is what limits the harness: default false.
   */
  monoStorage?: boolean;
}

/** Input frames fed to a stream's resampler per write. */
const INPUT_CHUNK = 4096;

/** Output frames discarded per pass while a new resampler warms up at a chunk another thread began. */
const DISCARD = 4096;

/** One (content, layout, track, start) rendered through its own resampler. */
class AccompanimentStream extends RenderedStream {
  private resampler: Resampler | null;
  private scratch: Int16Array | null;
  /** Next input frame (absolute in the file) to feed, and the output frame the resampler is at. */
  private next: number;
  private at = 0;

  constructor(
    private content: ContentRef | null,
    private readonly pool: ContentPool,
    private readonly wav: WavLayout,
    private readonly layout: TrackLayout,
    private readonly track: number,
    private readonly startFrame: number,
    chunkFrames: number,
    shared: SharedChunks | null,
  ) {
    super(chunkFrames, shared);
    const ch = layout.channelsPerTrack;
    this.resampler = new Resampler(wav.sampleRate, ch, { maxChunkFrames: INPUT_CHUNK });
    this.scratch = new Int16Array(INPUT_CHUNK * ch);
    this.next = startFrame;
  }

  /** Output frames of the whole stream (the resampler's exact count for its input). */
  static totalFrames(wav: WavLayout, startFrame: number, rs: Resampler): number {
    return Math.ceil(((wav.frames - startFrame) * rs.up) / rs.down);
  }

  protected render(out: Int16Array, frames: number, from: number): number {
    if (!this.content) return 0;
    if (from !== this.at) this.moveTo(from);
    const got = this.pump(out, 0, frames);
    this.at += got;
    return got;
  }

  /**
   * A resampler positioned at output frame `n` (another thread rendered the chunks before it). Output n depends
   * only on the phase n·M mod L and the T input frames around input index floor(n·M/L), never on the path
   * there (resampler.ts: exact rational time, integer kernel). A fresh resampler fed from input s (a multiple of
   * M, so its output 0 is output s·L/M here) treats inputs before s as silence; with s at least T/2 - 1 input
   * frames before the first tap output n reads, its outputs from n on are those of the one that started at the
   * stream's start: the warm-up outputs before n are computed and dropped.
   */
  private moveTo(n: number): void {
    const ch = this.layout.channelsPerTrack;
    const rs = new Resampler(this.wav.sampleRate, ch, { maxChunkFrames: INPUT_CHUNK });
    const L = rs.up;
    const M = rs.down;
    const idx = Math.floor((n * M) / L);
    const s = Math.max(0, Math.floor((idx - rs.taps / 2 + 1) / M) * M);
    this.resampler = rs;
    this.next = this.startFrame + s;
    let skip = n - (s * L) / M;
    const sink = new Int16Array(DISCARD * 2);
    while (skip > 0) {
      const got = this.pump(sink, 0, Math.min(DISCARD, skip));
      if (got === 0) break;
      skip -= got;
    }
    this.at = n;
  }

  /** As ResampledSource.read: each pass produces output, feeds input or ends the stream. */
  private pump(out: Int16Array, offset: number, frames: number): number {
    const rs = this.resampler;
    const scratch = this.scratch;
    const content = this.content;
    if (!rs || !scratch || !content) return 0;
    const ch = this.layout.channelsPerTrack;
    let got = 0;
    while (got < frames) {
      const made = rs.read(out, offset + got, frames - got);
      got += made;
      if (made > 0) continue;
      if (rs.drained) break;
      const want = Math.min(INPUT_CHUNK, rs.writable(), this.wav.frames - this.next);
      if (want > 0) {
        copyTrack(
          content.bytes,
          this.wav.dataOffset,
          this.wav.channels,
          this.next,
          want,
          this.track * ch,
          ch,
          scratch,
        );
        this.next += want;
        rs.write(scratch, want);
      } else if (this.next >= this.wav.frames) {
        rs.end();
      } else {
        throw new Error("shared audio: resampler stalled");
      }
    }
    return got;
  }

  protected override pendingBytes(): number {
    // The song's bytes are shared with other streams and players: counted here anyway, so the budget also
    // bounds the bytes that idle, unfinished streams keep alive (conservative when streams share a song).
    // Bytes in the process's arena are not this thread's to free: not counted.
    const own = this.content && !this.content.shared ? this.content.bytes.length : 0;
    return own + (this.scratch ? this.scratch.byteLength * 4 : 0);
  }

  protected override finished(): void {
    // Fully rendered (or dropped): the resampler and the song's bytes are no longer needed here.
    this.resampler = null;
    this.scratch = null;
    if (this.content) this.pool.release(this.content);
    this.content = null;
  }
}

/**
 * A song opened for playback: its layout, and cursors into the shared streams of its tracks. Holds a reference
 * to the song's bytes until closed.
 */
export class SharedSong {
  readonly sampleRate: number;
  readonly frames: number;
  readonly layout: TrackLayout;
  private closed = false;

  constructor(
    private readonly store: SharedAudioStore,
    readonly content: ContentRef,
    readonly wav: WavLayout,
    quality: "normal" | "hq" | "sq",
  ) {
    this.sampleRate = wav.sampleRate;
    this.frames = wav.frames;
    this.layout = trackLayout(wav.channels, quality);
  }

  /** A reader of `track` rendered from input frame `startFrame`, positioned `position` output frames in. */
  cursor(track: number, startFrame: number, position = 0): StreamCursor {
    if (this.closed) throw new Error("shared song: closed");
    if (!Number.isInteger(track) || track < 0 || track >= this.layout.tracks) {
      throw new RangeError(`track ${track} outside 0..${this.layout.tracks - 1}`);
    }
    const start = Math.max(0, Math.min(this.frames, Math.floor(startFrame)));
    return this.store.streamCursor(this, track, start, position);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.store.pool.release(this.content);
  }
}

export class SharedAudioStore {
  readonly pool: ContentPool;
  private readonly streams: RenderStore<AccompanimentStream>;
  private readonly chunkFrames: number;
  private readonly monoStorage: boolean;

  constructor(o: SharedAudioOptions = {}) {
    this.pool = o.pool ?? new ContentPool();
    this.streams = new RenderStore(o.budgetBytes ?? DEFAULT_BUDGET_BYTES);
    this.chunkFrames = o.chunkFrames ?? DEFAULT_CHUNK_FRAMES;
    this.monoStorage = o.monoStorage ?? false;
  }

  /**
   * Opens a WAV file's bytes (a verified download) for playback at a CDN tier; throws a clear Error on a file
   * that is not 16-bit PCM WAV or holds no audio. The bytes are interned: keep them unchanged.
   */
  open(bytes: Uint8Array, quality: "normal" | "hq" | "sq"): SharedSong {
    const wav = parseWavBytes(bytes);
    if (wav.frames === 0) throw new Error("wav: no audio");
    const content = this.pool.intern(bytes);
    return new SharedSong(this, content, wav, quality);
  }

  /** @internal SharedSong.cursor's work. */
  streamCursor(song: SharedSong, track: number, startFrame: number, position: number): StreamCursor {
    const { layout } = song;
    const key = `${song.content.id}|${layout.tracks}x${layout.channelsPerTrack}|${track}|${startFrame}`;
    const cursor = this.streams.cursor(
      key,
      () =>
        new AccompanimentStream(
          this.pool.retain(song.content),
          this.pool,
          song.wav,
          layout,
          track,
          startFrame,
          this.chunkFrames,
          this.sharedChunks(song, key, startFrame),
        ),
      position,
    );
    // Catching up (a track switch mid-song) renders here, in the control call, not on the next frame.
    cursor.stream.ensure(position);
    return cursor;
  }

  /**
   * Where the stream's chunks go when the song's bytes are in the process's arena: one header per key for all
   * threads (the content id of shared bytes is the same in every thread). Null: this thread renders its own.
   */
  private sharedChunks(song: SharedSong, key: string, startFrame: number): SharedChunks | null {
    const arena = this.pool.arena;
    if (!arena || !song.content.shared) return null;
    const ch = song.layout.channelsPerTrack;
    const probe = new Resampler(song.wav.sampleRate, ch, { maxChunkFrames: 1 });
    const total = AccompanimentStream.totalFrames(song.wav, startFrame, probe);
    const cf = this.chunkFrames;
    // A mono track's resampler maps its one channel to both sides: left equals right, stored once.
    const mono = ch === 1 && this.monoStorage;
    const e = arena.entry(`a|${cf}|${mono ? 1 : 2}|${key}`, () =>
      allocStreamHeader(arena, Math.floor(total / cf) + 1),
    );
    return e ? { arena, header: e.offset, mono } : null;
  }

  /** Drops every rendered stream nobody reads. */
  trim(): void {
    this.streams.trim();
  }

  get stats(): RenderStoreStats & { contents: number; contentBytes: number } {
    const p = this.pool.stats;
    return { ...this.streams.stats, contents: p.contents, contentBytes: p.bytes };
  }
}
