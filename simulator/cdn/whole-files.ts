import { type AudioFile, CHUNK_BYTES } from "./audio-file.ts";
import type { ChunkCache } from "./chunk-cache.ts";

// Whole rendered files, for the CDN's fast path. With no cap, no fault plan and the file already rendered,
// the piece stream only adds cost: a turn, a promise chain, a cut check and a metrics call per 64 KiB, and
// one socket write each (the profile at dc30b28: `writev` the simulator's top function, the CDN at 0.38-0.46x
// nginx). A file kept whole is answered with one write of a view into it, and libuv sends it as the socket
// takes it without the event loop's help: no turn is held, however large the file.
//
// A file is assembled only from chunks the shared chunk cache already holds (copying, never rendering), so the
// first download of a song still renders through the piece stream at its pace of one piece per turn; the next
// one finds every chunk and the file is assembled once. Bounded in bytes; least recently used goes first.

/** Files larger than this are always sent as pieces: one would crowd out the others. */
export const WHOLE_FILE_MAX_BYTES = 16 * 1024 * 1024;
export const WHOLE_FILES_BYTES = 64 * 1024 * 1024;

export interface WholeFiles {
  /** The whole file, if kept or assemblable from cached chunks now; undefined otherwise (never renders). */
  get(file: AudioFile, chunks: ChunkCache): Buffer | undefined;
  readonly bytes: number;
  readonly size: number;
}

export function createWholeFiles(maxBytes = WHOLE_FILES_BYTES, maxFile = WHOLE_FILE_MAX_BYTES): WholeFiles {
  const map = new Map<string, Buffer>();
  let bytes = 0;

  function assemble(file: AudioFile, chunks: ChunkCache): Buffer | undefined {
    const n = Math.ceil(file.size / CHUNK_BYTES);
    const parts: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const c = chunks.peek(`${file.contentId}:${i}`);
      if (!c) return undefined;
      parts.push(c);
    }
    // Its own memory (not the shared pool), the size the file announces.
    const out = Buffer.allocUnsafeSlow(file.size);
    let at = 0;
    for (const c of parts) at += c.copy(out, at);
    return at === file.size ? out : undefined;
  }

  return {
    get(file, chunks) {
      const hit = map.get(file.contentId);
      if (hit) {
        map.delete(file.contentId);
        map.set(file.contentId, hit);
        return hit;
      }
      if (file.size > maxFile || file.size > maxBytes) return undefined;
      const whole = assemble(file, chunks);
      if (!whole) return undefined;
      map.set(file.contentId, whole);
      bytes += whole.length;
      while (bytes > maxBytes) {
        const [k, v] = map.entries().next().value as [string, Buffer];
        map.delete(k);
        bytes -= v.length;
      }
      return whole;
    },
    get bytes() {
      return bytes;
    },
    get size() {
      return map.size;
    },
  };
}
