import { assertFrame, CHANNELS, FRAME_FRAMES, FRAME_SAMPLES } from "../mixer/frame.ts";
import type { PcmSource } from "../mixer/source.ts";

// A 48 kHz stereo stream rendered once and read by many: the shared accompaniment and voice of a worker.
// Rendering is lazy, in chunks, as the furthest reader advances (a song is minutes long, a VU plays seconds of
// it); the rendered prefix stays for every later reader. Chunks are a whole number of 10 ms frames, and every
// rendered frame has a preallocated Int16Array view (one flat list, indexed by frame number), so a reader's
// 10 ms is one `TypedArray.set` (a memcpy) found with integer arithmetic only: no allocation, even before the
// optimising compiler has run (a division with a fractional result would box a number per frame). When the
// furthest reader enters the last rendered chunk, the next one is queued on the thread's render queue, off the
// frame path; a reader that gets there first renders it itself.
//
// One queue per thread, a few ms of rendering per event-loop turn: with one setImmediate per stream, a frame
// tick that moved 100 readers into their last chunk queued 100 renders that all ran in the next check phase
// back to back (busy stretches of 240-270 ms in a 200-VU worker's CPU profile), and every mixer on the thread
// was late by that much. The budget lets timers (the frame ticker) and I/O run between slices.

// 100 ms: ~0.5 ms to render (~45 µs per 10 ms of resampling), a small bump on the tick that renders it.
export const DEFAULT_CHUNK_FRAMES = 4800;

/** Rendering ahead of readers per event-loop turn, at most (then the queue yields). */
const AHEAD_BUDGET_MS = 2;
const aheadQueue: RenderedStream[] = [];
let aheadImmediate: NodeJS.Immediate | null = null;

function queueAhead(s: RenderedStream): void {
  aheadQueue.push(s);
  if (aheadImmediate === null) {
    aheadImmediate = setImmediate(renderQueued);
    aheadImmediate.unref();
  }
}

function renderQueued(): void {
  aheadImmediate = null;
  const start = performance.now();
  let i = 0;
  while (i < aheadQueue.length) {
    aheadQueue[i++]!.renderAheadNow();
    if (performance.now() - start >= AHEAD_BUDGET_MS) break;
  }
  aheadQueue.splice(0, i);
  if (aheadQueue.length > 0) {
    aheadImmediate = setImmediate(renderQueued);
    aheadImmediate.unref();
  }
}

export abstract class RenderedStream {
  readonly chunkFrames: number;
  private readonly chunks: Int16Array[] = [];
  /** View of every whole rendered 10 ms frame, by frame number (output frame / 480). */
  private readonly frames: Int16Array[] = [];
  /** Output frames rendered so far. */
  private rendered = 0;
  private done = false;
  /** Queued on the thread's render queue. */
  private ahead = false;
  /** Readers holding this stream (cursors not closed). */
  refs = 0;
  /** Set when the owning store dropped it: no more rendering. */
  disposed = false;
  /** Chunks rendered (for tests: one renderer per stream). */
  renders = 0;

  constructor(chunkFrames = DEFAULT_CHUNK_FRAMES) {
    if (!Number.isInteger(chunkFrames) || chunkFrames <= 0 || chunkFrames % FRAME_FRAMES !== 0) {
      throw new RangeError(`rendered stream: chunkFrames must be a positive multiple of ${FRAME_FRAMES}`);
    }
    this.chunkFrames = chunkFrames;
  }

  /**
   * Renders up to `frames` stereo frames into `out` from frame 0 (the next frames of the stream); returns how
   * many. Fewer than asked means the stream ended after them.
   */
  protected abstract render(out: Int16Array, frames: number): number;

  /** Called once the stream has ended: free what only rendering needed. */
  protected finished(): void {}

  get renderedFrames(): number {
    return this.rendered;
  }

  /** True once the end of the stream was rendered. */
  get complete(): boolean {
    return this.done;
  }

  /** Bytes of rendered audio held. */
  get bytes(): number {
    return this.chunks.length * this.chunkFrames * CHANNELS * 2;
  }

  /** Everything this stream keeps alive: its rendering and what rendering the rest still needs. */
  get heldBytes(): number {
    return this.bytes + this.pendingBytes();
  }

  /** Bytes held only to render the rest (a song's bytes, a resampler's buffers); 0 once complete. */
  protected pendingBytes(): number {
    return 0;
  }

  /** The chunk buffer holding frame `frame` (for tests: identity of the shared buffer). */
  chunkAt(frame: number): Int16Array | undefined {
    return this.chunks[Math.floor(frame / this.chunkFrames)];
  }

  /** Renders chunks until `frames` frames exist or the stream ends. */
  ensure(frames: number): void {
    while (this.rendered < frames && !this.done && !this.disposed) this.renderChunk();
  }

  private renderChunk(): void {
    const cf = this.chunkFrames;
    const buf = new Int16Array(cf * CHANNELS);
    const made = this.render(buf, cf);
    this.renders++;
    if (made > 0) {
      for (let f = 0; f + FRAME_FRAMES <= made; f += FRAME_FRAMES) {
        this.frames.push(buf.subarray(f * CHANNELS, f * CHANNELS + FRAME_SAMPLES));
      }
      this.chunks.push(buf);
      this.rendered += made;
    }
    if (made < cf) {
      this.done = true;
      this.finished();
    }
  }

  /** Called by a reader that reached `pos`: renders the next chunk off the frame path when it is close. */
  protected readAhead(pos: number): void {
    if (this.ahead || this.done || this.disposed) return;
    if (this.rendered - pos > this.chunkFrames) return;
    this.ahead = true;
    queueAhead(this);
  }

  /** The render queue's turn: the next chunk, unless the stream ended, was dropped or lost its readers. */
  renderAheadNow(): void {
    this.ahead = false;
    if (!this.done && !this.disposed && this.refs > 0) this.renderChunk();
  }

  dispose(): void {
    // Still queued: the queue's turn finds it disposed and renders nothing.
    this.disposed = true;
    this.chunks.length = 0;
    this.frames.length = 0;
    this.finished();
  }

  /**
   * Copies 10 ms from frame `pos` into `out` (zeros past the end); returns the real frames. Allocation-free:
   * a whole aligned frame is one `set` from a preallocated view.
   */
  copyFrame(pos: number, out: Int16Array): number {
    if (this.rendered < pos + FRAME_FRAMES && !this.done) this.ensure(pos + FRAME_FRAMES);
    this.readAhead(pos);
    if (pos % FRAME_FRAMES === 0) {
      const view = this.frames[pos / FRAME_FRAMES];
      if (view !== undefined) {
        out.set(view);
        return FRAME_FRAMES;
      }
    }
    // The partial last frame, past the end, or a position off the 10 ms grid: sample by sample.
    const avail = Math.max(0, Math.min(FRAME_FRAMES, this.rendered - pos));
    const cf = this.chunkFrames;
    let o = 0;
    for (let f = 0; f < avail; f++) {
      const at = pos + f;
      const chunk = this.chunks[Math.floor(at / cf)]!;
      const s = (at % cf) * CHANNELS;
      out[o++] = chunk[s]!;
      out[o++] = chunk[s + 1]!;
    }
    out.fill(0, o);
    return avail;
  }
}

/** One reader of a shared stream: a PcmSource at its own position. Close it to release the stream. */
export class StreamCursor implements PcmSource {
  private closed = false;

  constructor(
    readonly stream: RenderedStream,
    /** Output frames read so far. */
    public position: number,
    private readonly onClose: (s: RenderedStream) => void,
  ) {
    stream.refs++;
  }

  read(out: Int16Array): number {
    if (out.length !== FRAME_SAMPLES) assertFrame(out);
    if (this.closed) {
      out.fill(0);
      return 0;
    }
    const n = this.stream.copyFrame(this.position, out);
    this.position += n;
    return n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.refs--;
    this.onClose(this.stream);
  }
}
