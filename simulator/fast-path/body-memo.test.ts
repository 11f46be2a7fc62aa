import { describe, expect, it } from "vitest";
import { BodyMemo } from "./body-memo.ts";

describe("BodyMemo", () => {
  it("answers a text kept before, counts its hits, and keeps nothing for a text over its length", () => {
    const memo = new BodyMemo<number>(4, 10);
    expect(memo.get("a")).toBeUndefined();
    memo.set("a", 1);
    expect(memo.get("a")).toBe(1);
    expect(memo.get("b")).toBeUndefined();
    expect(memo.hits).toBe(1);
    memo.set("x".repeat(11), 2);
    expect(memo.get("x".repeat(11))).toBeUndefined();
    expect(memo.size).toBe(1);
  });

  it("stays within its entries whatever it is given: it starts over when full", () => {
    const memo = new BodyMemo<number>(4, 10);
    for (let i = 0; i < 100; i++) {
      memo.set(`k${i}`, i);
      expect(memo.size).toBeLessThanOrEqual(4);
      expect(memo.get(`k${i}`)).toBe(i);
    }
  });
});
