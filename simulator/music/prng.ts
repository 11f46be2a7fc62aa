// Deterministic randomness for composition and synthesis. Everything the simulator makes from a song (notes,
// words, audio) must be identical across runs and machines, so no Math.random and no shared global state:
// each generator is seeded from the song key plus a purpose label.

/** 32-bit integer hash (lowbias32): good avalanche, cheap enough to run per audio sample. */
export function hash32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d);
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b);
  x = (x ^ (x >>> 16)) >>> 0;
  return x;
}

/** Mixes two integers into one 32-bit hash (order matters). */
export function mix32(a: number, b: number): number {
  return hash32((hash32(a >>> 0) ^ Math.imul(b >>> 0, 0x9e3779b9)) >>> 0);
}

/** FNV-1a of a string: turns purpose labels into seeds. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A small seeded generator (mulberry32). */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  /** true with probability p. */
  chance(p: number): boolean;
}

export function rng(seed: number, purpose = ""): Rng {
  let s = mix32(seed, hashString(purpose));
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    chance: (p) => next() < p,
  };
}
