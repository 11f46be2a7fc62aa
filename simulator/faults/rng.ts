// Counter-based randomness for fault decisions. Nothing here keeps state between requests: every draw is a
// pure function of (seed, fault id, request key, draw index), so the decision a request gets does not depend
// on which other requests came before it or how concurrent clients interleave. That is what lets a failing
// run be replayed: same seed + same profile + same requests => same faults.
//
// Construction: a 64-bit "lane" (two 32-bit words) per fault (seed mixed with the fault id) and per request
// key; draw i is a 32-bit integer hash of (fault lane, key lane, i) built from Chris Wellons' low-bias
// 32-bit mixer (hash-prospector "lowbias32", bias ~0.107). Two draws make one 53-bit double.

/** 64 bits of hash as two unsigned 32-bit words. */
export interface Lane {
  readonly a: number;
  readonly b: number;
}

/** A stream of uniform draws in [0, 1) for one (fault, request) pair. */
export interface Rng {
  next(): number;
}

const GOLDEN = 0x9e3779b9;
const TWO_32 = 4294967296;
const TWO_53 = 9007199254740992;

/** Bijective 32-bit integer mixer (lowbias32). */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x21f0aaad);
  x ^= x >>> 15;
  x = Math.imul(x, 0x735a2d97);
  x ^= x >>> 15;
  return x >>> 0;
}

/** 32-bit string hash (FNV-1a over UTF-16 code units, then mixed so short strings avalanche). */
export function hash32(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix32(h ^ mix32(s.length + seed));
}

/** Lane of a string under no seed: request keys (the fault lane carries the seed). */
export function keyLane(s: string): Lane {
  return { a: hash32(s, 0x243f6a88), b: hash32(s, 0x85a308d3) };
}

/** Lane of a label (a fault id) under a simulator seed (any safe integer, negatives included). */
export function seededLane(seed: number, label: string): Lane {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / TWO_32) >>> 0;
  const s = mix32(lo ^ mix32(hi ^ 0x13198a2e));
  return { a: hash32(label, s), b: hash32(label, mix32(s ^ 0x03707344)) };
}

function draw32(s0: number, s1: number, i: number): number {
  return mix32(s0 ^ mix32((s1 + Math.imul(i + 1, GOLDEN)) >>> 0));
}

/** The draws of one fault for one request; draw i is the same whenever and wherever it is taken. */
export function counterRng(fault: Lane, key: Lane): Rng {
  const s0 = mix32(fault.a ^ key.a);
  const s1 = mix32(fault.b ^ mix32(key.b ^ s0));
  let i = 0;
  return {
    next() {
      const hi = draw32(s0, s1, i++) >>> 11;
      const lo = draw32(s0, s1, i++);
      return (hi * TWO_32 + lo) / TWO_53;
    },
  };
}

/** A stable point in [0, 1) for an id under a fault: fraction selectors take ids whose point is below it. */
export function unitOf(fault: Lane, id: string): number {
  return counterRng(fault, keyLane(id)).next();
}
