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

describe("BodyMemo.getBytes", () => {
  const bytes = (s: string) => Buffer.from(s, "utf8");

  it("answers the bytes last remembered with their text and value, and nothing for other bytes", () => {
    const memo = new BodyMemo<number>(4, 64);
    expect(memo.getBytes(bytes('{"a":1}'))).toBeUndefined();
    memo.set('{"a":1}', 1);
    const seen = bytes('{"a":1}');
    memo.rememberBytes(seen, '{"a":1}', 1);
    // The memo keeps its own copy: the request's buffer (a slice of a socket's read buffer) is reused.
    seen.fill(0x20);
    expect(memo.getBytes(bytes('{"a":1}'))).toEqual({ text: '{"a":1}', value: 1 });
    expect(memo.getBytes(bytes('{"a":2}'))).toBeUndefined(); // same length, other bytes
    expect(memo.getBytes(bytes('{"a":1} '))).toBeUndefined();
    expect(memo.hits).toBe(1);
  });

  it("forgets with the memo: after it starts over, or for a value it does not keep", () => {
    const memo = new BodyMemo<number>(2, 64);
    memo.set("x", 1);
    memo.rememberBytes(bytes("x"), "x", 1);
    memo.set("y", 2);
    memo.set("z", 3); // full: started over, "x" is gone
    expect(memo.getBytes(bytes("x"))).toBeUndefined();
    // Not kept (too long, or another value than the memo holds): not remembered either.
    const long = "l".repeat(65);
    memo.rememberBytes(bytes(long), long, 4);
    expect(memo.getBytes(bytes(long))).toBeUndefined();
    memo.rememberBytes(bytes("z"), "z", 9);
    expect(memo.getBytes(bytes("z"))).toBeUndefined();
  });
});
