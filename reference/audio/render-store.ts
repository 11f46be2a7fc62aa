import type { RenderedStream } from "./rendered-stream.ts";
import { StreamCursor } from "./rendered-stream.ts";

// The keyed, refcounted home of a worker's rendered streams. A stream with readers is never dropped; one
// without readers stays (so the next VU on that song starts on a warm prefix) until the bytes all streams keep
// alive (renderings, and the song bytes unfinished ones still need) exceed the budget; then the least recently
// released go first. The budget is checked when a cursor opens or closes, not while a stream renders.

export const DEFAULT_BUDGET_BYTES = 256 * 1024 * 1024;

export interface RenderStoreStats {
  /** Streams held (with and without readers). */
  streams: number;
  /** Streams without readers (evictable). */
  idle: number;
  /** Rendered bytes held. */
  bytes: number;
  /** Bytes the streams keep alive: renderings plus what unfinished streams need to go on (song bytes). */
  heldBytes: number;
  /** Streams ever created (each one renderer: a resampler or a voice). */
  created: number;
  evicted: number;
}

export class RenderStore<S extends RenderedStream> {
  private readonly byKey = new Map<string, S>();
  private readonly keyOf = new Map<S, string>();
  /** Streams without readers, least recently released first (Map keeps insertion order). */
  private readonly idle = new Map<string, S>();
  private created = 0;
  private evicted = 0;

  constructor(readonly budgetBytes = DEFAULT_BUDGET_BYTES) {
    if (!(budgetBytes >= 0)) throw new RangeError("render store: budgetBytes must be ≥ 0");
  }

  /** A reader of the stream under `key` at output frame `position`, made by `make` when absent. */
  cursor(key: string, make: () => S, position = 0): StreamCursor {
    let s = this.byKey.get(key);
    if (!s) {
      s = make();
      this.created++;
      this.byKey.set(key, s);
      this.keyOf.set(s, key);
    }
    this.idle.delete(key);
    const c = new StreamCursor(s, position, (x) => this.released(x as S));
    this.evict();
    return c;
  }

  /** The stream under `key`, if held (tests). */
  peek(key: string): S | undefined {
    return this.byKey.get(key);
  }

  private released(s: S): void {
    const key = this.keyOf.get(s);
    if (key === undefined || s.refs > 0) return;
    this.idle.delete(key);
    if (s.renderedFrames === 0) {
      // Opened and never read (a load followed by a track switch or a seek): nothing worth keeping warm.
      this.byKey.delete(key);
      this.keyOf.delete(s);
      s.dispose();
      return;
    }
    this.idle.set(key, s);
    this.evict();
  }

  private evict(): void {
    let total = 0;
    for (const s of this.byKey.values()) total += s.heldBytes;
    for (const [key, s] of this.idle) {
      if (total <= this.budgetBytes) break;
      total -= s.heldBytes;
      this.idle.delete(key);
      this.byKey.delete(key);
      this.keyOf.delete(s);
      s.dispose();
      this.evicted++;
    }
  }

  /** Drops every stream without readers. */
  trim(): void {
    for (const [key, s] of this.idle) {
      this.byKey.delete(key);
      this.keyOf.delete(s);
      s.dispose();
      this.evicted++;
    }
    this.idle.clear();
  }

  get stats(): RenderStoreStats {
    let bytes = 0;
    let heldBytes = 0;
    for (const s of this.byKey.values()) {
      bytes += s.bytes;
      heldBytes += s.heldBytes;
    }
    return {
      streams: this.byKey.size,
      idle: this.idle.size,
      bytes,
      heldBytes,
      created: this.created,
      evicted: this.evicted,
    };
  }
}
