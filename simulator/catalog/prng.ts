// Counter-based hashing instead of a stateful generator: any song's attributes are a pure function of
// (seed, index, lane), so one song can be materialised in O(1) without generating the songs before it.

/** murmur3's 32-bit finaliser: a cheap full-avalanche mix. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uint32 from (seed, a, b): different lanes (b) of one index are independent streams. */
export function hash3(seed: number, a: number, b: number): number {
  let h = fmix32((seed ^ Math.imul(b + 1, 0x9e3779b9)) >>> 0);
  h = fmix32((h + Math.imul(a + 1, 0x27d4eb2f)) >>> 0);
  return fmix32((h ^ Math.imul(b + 0x61c88647, 0x165667b1)) >>> 0);
}

/** Folds any safe integer seed (negative or beyond 32 bits) into a well-mixed uint32. */
export function seed32(seed: number): number {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`catalog seed must be a safe integer, got ${seed}`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  return fmix32((lo ^ fmix32((hi + 0x5bd1e995) >>> 0)) >>> 0);
}

/** Uniform float in [0, 1) from a uint32. */
export const unit = (u32: number): number => u32 / 4294967296;

/** The n-th uint32 draw of a stream whose base is hash3(seed, index, lane) (what Draws reads in order). */
export const drawU32 = (base: number, n: number): number => hash3(base, n, 7);
/** The n-th draw of a stream as a float in [0, 1). */
export const drawFloat = (base: number, n: number): number => unit(hash3(base, n, 7));

/**
 * A short stream of draws for one (seed, index, lane): the n-th draw is drawU32(base, n), so reading the
 * fields of a song in a fixed order is reproducible without any shared state. Hot start-up loops use
 * drawFloat directly to avoid allocating a Draws per song; both read the same values.
 */
export class Draws {
  private n = 0;
  private readonly base: number;
  constructor(seed: number, index: number, lane: number) {
    this.base = hash3(seed, index, lane);
  }
  u32(): number {
    return drawU32(this.base, this.n++);
  }
  float(): number {
    return unit(this.u32());
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)] as T;
  }
}

/** Index of the bucket `u` (in [0,1)) falls into, given cumulative weights normalised to 1. */
export function weighted(u: number, cumulative: readonly number[]): number {
  for (let k = 0; k < cumulative.length; k++) if (u < (cumulative[k] as number)) return k;
  return cumulative.length - 1;
}

/** Cumulative, normalised form of a weight list, for `weighted`. */
export function cumulate(weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  let acc = 0;
  return weights.map((w) => {
    acc += w / total;
    return acc;
  });
}

/**
 * A keyed bijection on [0, 2^bits) (balanced Feistel network, even `bits`): scrambles indexes into ids and
 * popularity ranks without storing a table, and inverts in O(1).
 */
export class FeistelPermutation {
  private readonly half: number;
  private readonly mask: number;
  private readonly keys: number[];
  readonly domain: number;
  constructor(bits: number, key: number, rounds = 4) {
    if (bits % 2 !== 0 || bits < 2 || bits > 30)
      throw new RangeError(`feistel bits must be even in 2..30: ${bits}`);
    this.half = bits / 2;
    this.mask = (1 << this.half) - 1;
    this.domain = 2 ** bits;
    this.keys = Array.from({ length: rounds }, (_, r) => hash3(key, r, 0x5eed));
  }
  private round(x: number, r: number): number {
    return fmix32((x ^ (this.keys[r] as number)) >>> 0) & this.mask;
  }
  forward(x: number): number {
    let l = x >>> this.half;
    let r = x & this.mask;
    for (let k = 0; k < this.keys.length; k++) {
      const t = r;
      r = l ^ this.round(r, k);
      l = t;
    }
    return ((l << this.half) | r) >>> 0;
  }
  inverse(y: number): number {
    let l = y >>> this.half;
    let r = y & this.mask;
    for (let k = this.keys.length - 1; k >= 0; k--) {
      const t = l;
      l = r ^ this.round(l, k);
      r = t;
    }
    return ((l << this.half) | r) >>> 0;
  }
  /** A bijection on [0, n) for n <= domain, by cycle walking (expected < 4 steps when domain < 4n). */
  forwardWithin(x: number, n: number): number {
    let y = this.forward(x);
    while (y >= n) y = this.forward(y);
    return y;
  }
}

/** Smallest even bit count whose domain holds n values. */
export function evenBitsFor(n: number): number {
  let bits = 2;
  while (2 ** bits < n) bits += 2;
  return bits;
}
