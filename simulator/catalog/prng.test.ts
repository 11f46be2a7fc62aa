import { describe, expect, it } from "vitest";
import { SongIdCodec } from "./ids.ts";
import { Draws, evenBitsFor, FeistelPermutation, hash3, seed32 } from "./prng.ts";

describe("prng", () => {
  it("hash3 is a pure function whose lanes and indexes differ", () => {
    expect(hash3(1, 2, 3)).toBe(hash3(1, 2, 3));
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) for (let lane = 0; lane < 4; lane++) seen.add(hash3(7, i, lane));
    expect(seen.size).toBe(4000);
  });

  it("Draws is reproducible and roughly uniform", () => {
    const a = new Draws(5, 9, 1);
    const b = new Draws(5, 9, 1);
    const xs = Array.from({ length: 20_000 }, () => a.float());
    expect(Array.from({ length: 20_000 }, () => b.float())).toEqual(xs);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.49);
    expect(mean).toBeLessThan(0.51);
    const d = new Draws(1, 1, 1);
    for (let k = 0; k < 1000; k++) {
      const x = d.int(3, 5);
      expect(x >= 3 && x <= 5 && Number.isInteger(x)).toBe(true);
    }
  });

  it("seed32 folds big and negative seeds and rejects unsafe ones", () => {
    expect(seed32(1)).not.toBe(seed32(2));
    expect(seed32(2 ** 40)).not.toBe(seed32(0));
    expect(seed32(-1)).not.toBe(seed32(1));
    expect(() => seed32(1.5)).toThrow(RangeError);
    expect(() => seed32(Number.NaN)).toThrow(RangeError);
  });

  it("the Feistel permutation is a bijection with a working inverse", () => {
    const p = new FeistelPermutation(12, 99);
    const seen = new Uint8Array(p.domain);
    for (let x = 0; x < p.domain; x++) {
      const y = p.forward(x);
      expect(p.inverse(y)).toBe(x);
      seen[y] = 1;
    }
    expect(seen.every((s) => s === 1)).toBe(true);
    const n = 3000;
    const within = new Set(Array.from({ length: n }, (_, x) => p.forwardWithin(x, n)));
    expect(within.size).toBe(n);
    expect(Math.max(...within)).toBe(n - 1);
    expect(evenBitsFor(3000)).toBe(12);
    expect(evenBitsFor(4097)).toBe(14);
  });

  it("song ids round-trip and reject ill-formed strings", () => {
    const c = new SongIdCodec(seed32(3));
    for (const v of [0, 1, 2, 4] as const) {
      for (const i of [0, 1, 999, 123_456, 2 ** 24 - 1]) {
        const id = c.encode(v, i);
        expect(id).toMatch(/^[1-9][0-9]{7,9}$/);
        expect(c.decode(id)).toEqual({ vendor: v, index: i });
      }
    }
    for (const bad of [
      "",
      "abc",
      "012345678",
      " 10000000",
      "10000000 ",
      "1e7",
      "1000000",
      "99999999999",
      "-10000000",
    ]) {
      expect(c.decode(bad)).toBeUndefined();
    }
  });
});
