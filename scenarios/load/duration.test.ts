import { describe, expect, it } from "vitest";
import { durationMs, formatDuration, parseDuration } from "./duration.ts";

describe("k6 durations", () => {
  it.each([
    ["30s", 30_000],
    ["1m30s", 90_000],
    ["1h", 3_600_000],
    ["500ms", 500],
    ["1.5s", 1_500],
    ["2h3m4s5ms", 7_384_005],
    ["250us", 0.25],
    ["0", 0],
    [1200, 1200],
    [0, 0],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "30", "s", "1x", "1m 30s", "-5s", "1s2", "abc"])("%j is refused with a reason", (text) => {
    const r = parseDuration(text);
    expect(r).toBeInstanceOf(Error);
  });

  it("refuses negative, infinite and non-string non-number values", () => {
    expect(parseDuration(-1)).toBeInstanceOf(Error);
    expect(parseDuration(Number.POSITIVE_INFINITY)).toBeInstanceOf(Error);
    expect(parseDuration(null)).toBeInstanceOf(Error);
    expect(() => durationMs("nope", "stages[0].duration")).toThrow(/stages\[0\]\.duration/);
  });

  it("formats for people", () => {
    expect(formatDuration(90_000)).toBe("1m30s");
    expect(formatDuration(3_600_000)).toBe("1h");
    expect(formatDuration(250)).toBe("250ms");
    expect(formatDuration(0)).toBe("0s");
  });
});
