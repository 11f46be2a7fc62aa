// A byte-bounded LRU of rendered file chunks, shared by all downloads of one simulator: listeners in a room
// fetch the same song at the same quality, so one rendering serves them all, while memory stays bounded no
// matter how many downloads run (each download holds at most the chunk it is sending).

export interface ChunkCache {
  get(key: string): Buffer | undefined;
  /** The chunk if held, without counting a hit or miss or refreshing its place (whole-files.ts asks). */
  peek(key: string): Buffer | undefined;
  set(key: string, chunk: Buffer): void;
  readonly bytes: number;
  readonly size: number;
  readonly hits: number;
  readonly misses: number;
}

export function createChunkCache(maxBytes: number): ChunkCache {
  const map = new Map<string, Buffer>();
  let bytes = 0;
  let hits = 0;
  let misses = 0;
  return {
    get(key) {
      const c = map.get(key);
      if (!c) {
        misses++;
        return undefined;
      }
      hits++;
      // Re-insert: Map iteration order is insertion order, so the head is always the least recently used.
      map.delete(key);
      map.set(key, c);
      return c;
    },
    peek(key) {
      return map.get(key);
    },
    set(key, chunk) {
      if (chunk.length > maxBytes) return;
      const old = map.get(key);
      if (old) {
        bytes -= old.length;
        map.delete(key);
      }
      map.set(key, chunk);
      bytes += chunk.length;
      while (bytes > maxBytes) {
        const [k, v] = map.entries().next().value as [string, Buffer];
        map.delete(k);
        bytes -= v.length;
      }
    },
    get bytes() {
      return bytes;
    },
    get size() {
      return map.size;
    },
    get hits() {
      return hits;
    },
    get misses() {
      return misses;
    },
  };
}
