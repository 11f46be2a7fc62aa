import { describe, expect, it } from "vitest";
import type { Quality, ResourceType } from "../../protocol/enums.ts";
import { fakeFacts } from "../music/facts-fixture.ts";
import { type AudioFile, audioFileFor, CHUNK_BYTES, chunkAt, renderBytes, slice } from "./audio-file.ts";
import { createChunkCache } from "./chunk-cache.ts";
import { audioLayout } from "./format.ts";
import { parseWavHeader } from "./wav.ts";

const facts = fakeFacts();

function file(
  type: ResourceType,
  quality: Quality,
  span = { begin: 0, end: facts.item.duration },
): AudioFile {
  const tracks = type !== 0 && facts.has_original === 1 ? 2 : 1;
  return audioFileFor(
    { span, layout: audioLayout(quality, span.end - span.begin, tracks), resource_type: type, quality },
    facts,
  );
}

/** Reads [a, b) the way the CDN does: piece by piece through the chunk slices. */
function readVia(
  f: AudioFile,
  a: number,
  b: number,
  piece: number,
  cache = createChunkCache(1 << 20),
): Buffer {
  const parts: Buffer[] = [];
  for (let p = a; p < b; ) {
    const s = slice(f, p, Math.min(b, p + piece), cache);
    parts.push(Buffer.from(s));
    p += s.length;
  }
  return Buffer.concat(parts);
}

describe("audio file", () => {
  it("starts with a valid header matching the layout and has the layout's size", () => {
    const f = file(1, 0);
    const head = renderBytes(f, 0, 64);
    const info = parseWavHeader(head);
    expect(info.channels).toBe(2);
    expect(info.sampleRate).toBe(8000);
    expect(info.dataBytes + 44).toBe(f.size);
    expect(renderBytes(f, f.size - 10, f.size + 100).length).toBe(10);
  });

  it("serves identical bytes however a range is cut into pieces and chunks", () => {
    const f = file(2, 0, { begin: facts.clip.segment_begin, end: facts.clip.segment_end });
    const a = 17;
    const b = 3 * CHUNK_BYTES + 12_345;
    const whole = renderBytes(f, a, b);
    // Buffer.equals, not toEqual: deep equality over 200 kB is needlessly slow.
    expect(readVia(f, a, b, 1000).equals(whole)).toBe(true);
    expect(readVia(f, a, b, 65536).equals(whole)).toBe(true);
    expect(readVia(f, a, a + 20_000, 7).equals(whole.subarray(0, 20_000))).toBe(true);
    const twoChunks = Buffer.concat([chunkAt(f, 0), chunkAt(f, 1)]).subarray(a, 2 * CHUNK_BYTES);
    expect(twoChunks.equals(whole.subarray(0, 2 * CHUNK_BYTES - a))).toBe(true);
    expect(whole.length).toBe(b - a);
  });

  it("a clip is the song's audio from segment_begin on", () => {
    const span = { begin: facts.clip.segment_begin, end: facts.clip.segment_end };
    const clip = file(2, 0, span);
    const whole = file(1, 0);
    const frameBytes = 4;
    const offset = 44 + Math.round((span.begin * 8000) / 1000) * frameBytes;
    const n = 200_000;
    expect(renderBytes(clip, 44, 44 + n).equals(renderBytes(whole, offset, offset + n))).toBe(true);
  });

  it("has a content id that changes with what is in the file and nothing else", () => {
    expect(file(1, 0).etag).toBe(file(1, 0).etag);
    expect(file(1, 0).etag).not.toBe(file(1, 1).etag);
    expect(file(1, 0).etag).not.toBe(file(0, 0).etag);
    expect(file(1, 0).etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
  });

  it("caches chunks: a second read renders nothing", () => {
    const f = file(0, 2);
    const cache = createChunkCache(8 * CHUNK_BYTES);
    readVia(f, 0, 2 * CHUNK_BYTES, 4096, cache);
    const misses = cache.misses;
    readVia(f, 0, 2 * CHUNK_BYTES, 4096, cache);
    expect(cache.misses).toBe(misses);
    expect(cache.hits).toBeGreaterThan(0);
  });
});
