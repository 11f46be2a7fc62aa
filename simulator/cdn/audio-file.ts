import { createHash } from "node:crypto";
import { QUALITY_NAMES, type Quality, type QualityName, type ResourceType } from "../../protocol/enums.ts";
import type { SongFacts } from "../catalog/types.ts";
import { compositionIdentity, compositionOf } from "../music/composition.ts";
import { frameBytes, type RenderSpec, renderPcm, type TrackKind } from "../music/synth.ts";
import type { ChunkCache } from "./chunk-cache.ts";
import { type AudioLayout, WAV_HEADER_BYTES } from "./format.ts";
import { wavHeader } from "./wav.ts";

// A resource's file as a virtual byte array: WAV header + PCM rendered on demand in fixed chunks. Nothing
// holds a whole file; any byte range is assembled from chunks that are rendered independently.

/** Bump when the synthesiser's output changes, so ETags (and clients' caches) change with it. */
export const SYNTH_VERSION = 1;
export const CHUNK_BYTES = 64 * 1024;

export interface AudioFile {
  /** Content identity: same song, span, layout and tracks give the same id in every simulator. */
  contentId: string;
  /** Strong validator for ETag / If-Range. */
  etag: string;
  size: number;
  layout: AudioLayout;
  quality: QualityName;
  header: Buffer;
  render: RenderSpec;
}

export interface FileSpec {
  span: { begin: number; end: number };
  layout: AudioLayout;
  resource_type: ResourceType;
  quality: Quality;
}

/** The original recording (type 0) is band plus voice; accompaniments add the original as a second track. */
export function trackKinds(type: ResourceType, tracks: 1 | 2): TrackKind[] {
  if (tracks === 2) return ["accompaniment", "original"];
  return type === 0 ? ["original"] : ["accompaniment"];
}

export function audioFileFor(rec: FileSpec, facts: SongFacts): AudioFile {
  const { layout, span } = rec;
  const kinds = trackKinds(rec.resource_type, layout.tracks);
  const identity = JSON.stringify([
    SYNTH_VERSION,
    compositionIdentity(facts),
    span.begin,
    span.end,
    layout.sampleRate,
    layout.channels,
    layout.frames,
    kinds,
  ]);
  const contentId = createHash("sha256").update(identity).digest("base64url").slice(0, 27);
  return {
    contentId,
    etag: `"${contentId}"`,
    size: layout.size,
    layout,
    quality: QUALITY_NAMES[rec.quality],
    header: wavHeader(layout),
    render: {
      composition: compositionOf(facts),
      sampleRate: layout.sampleRate,
      channelsPerTrack: (layout.channels / layout.tracks) as 1 | 2,
      tracks: kinds,
      firstSongFrame: Math.round((span.begin * layout.sampleRate) / 1000),
    },
  };
}

// Frame-aligned scratch for rendering, reused (rendering is synchronous); its own ArrayBuffer, offset 0.
let scratch = Buffer.allocUnsafeSlow(0);

/** Renders file bytes [b0, b1) (any alignment) into a new buffer. */
export function renderBytes(file: AudioFile, b0: number, b1: number): Buffer {
  const end = Math.min(b1, file.size);
  const out = Buffer.allocUnsafe(Math.max(0, end - b0));
  if (end <= b0) return out;
  if (b0 < WAV_HEADER_BYTES) file.header.copy(out, 0, b0, Math.min(WAV_HEADER_BYTES, end));
  const d0 = Math.max(b0, WAV_HEADER_BYTES) - WAV_HEADER_BYTES;
  const d1 = end - WAV_HEADER_BYTES;
  if (d1 > d0) {
    const fb = frameBytes(file.render);
    const fr0 = Math.floor(d0 / fb);
    const fr1 = Math.ceil(d1 / fb);
    const need = (fr1 - fr0) * fb;
    if (scratch.length < need) scratch = Buffer.allocUnsafeSlow(Math.max(need, CHUNK_BYTES + 64));
    renderPcm(file.render, fr0, fr1 - fr0, scratch, 0);
    scratch.copy(out, d0 + WAV_HEADER_BYTES - b0, d0 - fr0 * fb, d1 - fr0 * fb);
  }
  return out;
}

/** Chunk `index` of the file (bytes [index x CHUNK_BYTES, ...)), from the cache or freshly rendered. */
export function chunkAt(file: AudioFile, index: number, cache?: ChunkCache): Buffer {
  const key = chunkKey(file, index);
  const hit = cache?.get(key);
  if (hit) return hit;
  const b0 = index * CHUNK_BYTES;
  const chunk = renderBytes(file, b0, b0 + CHUNK_BYTES);
  cache?.set(key, chunk);
  return chunk;
}

function chunkKey(file: AudioFile, index: number): string {
  return `${file.contentId}:${index}`;
}

/** Whether the piece starting at byte `start` would come from the cache (nothing to render; no hit counted). */
export function isCached(file: AudioFile, start: number, cache?: ChunkCache): boolean {
  return cache?.peek(chunkKey(file, Math.floor(start / CHUNK_BYTES))) !== undefined;
}

/** Bytes [start, end) as a view into a cached chunk: at most up to the chunk's end (callers loop). */
export function slice(file: AudioFile, start: number, end: number, cache?: ChunkCache): Buffer {
  const index = Math.floor(start / CHUNK_BYTES);
  const chunk = chunkAt(file, index, cache);
  const off = start - index * CHUNK_BYTES;
  return chunk.subarray(off, Math.min(chunk.length, off + (end - start)));
}
