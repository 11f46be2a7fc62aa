import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { fakeFacts } from "../music/facts-fixture.ts";
import { type AudioFile, audioFileFor, CHUNK_BYTES, chunkAt, renderBytes } from "./audio-file.ts";
import { createChunkCache } from "./chunk-cache.ts";
import { DownloadStream } from "./download-stream.ts";
import { audioLayout } from "./format.ts";
import { createTokenBucket } from "./token-bucket.ts";

// When a download's pieces go out: one per event-loop turn, a piece to render waiting for the turn's rendering
// budget; a piece already in the cache waits for no budget, and a cached first piece (warm.ts put it there when
// the resource was issued) goes out in the turn that asks for it. The bytes are the file's either way.

const facts = fakeFacts();

function clipFile(): AudioFile {
  const span = { begin: 0, end: Math.min(facts.item.duration, 20_000) };
  return audioFileFor(
    { span, layout: audioLayout(0, span.end - span.begin, 1), resource_type: 2, quality: 0 },
    facts,
  );
}

function stream(file: AudioFile, cache: ReturnType<typeof createChunkCache>, start = 0, end = file.size) {
  return new DownloadStream({
    file,
    start,
    end,
    pieceBytes: CHUNK_BYTES,
    buckets: [createTokenBucket(0)],
    cache,
    cutReason: () => null,
    onBytes: () => {},
  });
}

/** Everything the stream gives until it ends. */
async function drain(s: DownloadStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of s) parts.push(p as Buffer);
  return Buffer.concat(parts);
}

describe("download stream pacing", () => {
  it("a first piece already in the cache is there in the turn that asks for it", () => {
    const file = clipFile();
    const cache = createChunkCache(64 * CHUNK_BYTES);
    chunkAt(file, 0, cache);
    const s = stream(file, cache);
    // read(0) asks for data: _read runs now, and with nothing to render it pushes at once.
    s.read(0);
    expect(s.readableLength).toBe(CHUNK_BYTES);
    s.destroy();
  });

  it("a first piece to render waits a turn (the request's turn composed the song), then comes", async () => {
    const file = clipFile();
    const cache = createChunkCache(64 * CHUNK_BYTES);
    const s = stream(file, cache);
    s.read(0);
    expect(s.readableLength).toBe(0);
    for (let i = 0; i < 10 && s.readableLength === 0; i++) await nextTurn();
    expect(s.readableLength).toBe(CHUNK_BYTES);
    s.destroy();
  });

  it("serves the same bytes, from any start, whether its chunks were cached or not", async () => {
    const file = clipFile();
    const whole = renderBytes(file, 0, file.size);
    const warm = createChunkCache(64 * CHUNK_BYTES);
    chunkAt(file, 0, warm);
    chunkAt(file, 2, warm);
    for (const start of [0, 1000, CHUNK_BYTES + 7]) {
      const a = await drain(stream(file, warm, start));
      const b = await drain(stream(file, createChunkCache(64 * CHUNK_BYTES), start));
      expect(a.equals(whole.subarray(start))).toBe(true);
      expect(b.equals(a)).toBe(true);
    }
  });
});
