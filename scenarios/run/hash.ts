// Deterministic draws without shared state: a uniform number in [0, 1) from the run's seed and a few integers
// (room, round, user...). Every worker computes the same value for the same inputs, so roommates on
// different threads agree on the room's song without talking to each other.

function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

export function unitDraw(seed: number, ...parts: number[]): number {
  let h = mix32(seed ^ 0x9e3779b9);
  for (const p of parts) h = mix32(h ^ mix32((p | 0) + 0x632be5ab));
  return h / 0x1_0000_0000;
}
