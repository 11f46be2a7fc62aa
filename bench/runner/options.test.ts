import { describe, expect, it } from "vitest";
import { DEFAULT_OUT, ONLY_OUT, parseBenchArgs, UsageError } from "./options.ts";
import { findOnPath, peerVersion } from "./peers.ts";
import { judge, median, orientedRatio } from "./stats.ts";

const NAMES = ["kernel-vs-memcpy", "mixer-vs-ffmpeg", "cdn-vs-nginx"];

describe("bench command line", () => {
  it("defaults: full run of every case into reports/bench/latest.json", () => {
    expect(parseBenchArgs([], NAMES)).toEqual({
      quick: false,
      only: undefined,
      out: DEFAULT_OUT,
      list: false,
      help: false,
    });
    expect(DEFAULT_OUT).toBe("reports/bench/latest.json");
  });

  it("--only writes beside latest.json, not over it, unless --out says so", () => {
    expect(parseBenchArgs(["--only", "cdn-vs-nginx"], NAMES).out).toBe(ONLY_OUT);
    expect(ONLY_OUT).not.toBe(DEFAULT_OUT);
    expect(parseBenchArgs(["--only", "cdn-vs-nginx", "--out", DEFAULT_OUT], NAMES).out).toBe(DEFAULT_OUT);
  });

  it("--quick, --out FILE and --out - (no file)", () => {
    expect(parseBenchArgs(["--quick", "--out", "x.json"], NAMES)).toMatchObject({
      quick: true,
      out: "x.json",
    });
    expect(parseBenchArgs(["--out", "-"], NAMES).out).toBeNull();
  });

  it("--only takes names repeated or comma-separated, kept in registry order", () => {
    expect(parseBenchArgs(["--only", "cdn-vs-nginx,kernel-vs-memcpy"], NAMES).only).toEqual([
      "kernel-vs-memcpy",
      "cdn-vs-nginx",
    ]);
    expect(parseBenchArgs(["--only", "mixer-vs-ffmpeg", "--only", "cdn-vs-nginx"], NAMES).only).toEqual([
      "mixer-vs-ffmpeg",
      "cdn-vs-nginx",
    ]);
  });

  it("refuses an unknown case, naming the cases there are", () => {
    expect(() => parseBenchArgs(["--only", "nope"], NAMES)).toThrow(UsageError);
    expect(() => parseBenchArgs(["--only", "nope"], NAMES)).toThrow(
      /"nope".*kernel-vs-memcpy, mixer-vs-ffmpeg/,
    );
    expect(() => parseBenchArgs(["--only", ""], NAMES)).toThrow(UsageError);
  });

  it("refuses unknown options, stray arguments and an empty --out", () => {
    expect(() => parseBenchArgs(["--rounds", "3"], NAMES)).toThrow(UsageError);
    expect(() => parseBenchArgs(["quick"], NAMES)).toThrow(UsageError);
    expect(() => parseBenchArgs(["--out", ""], NAMES)).toThrow(/--out/);
  });
});

describe("bench arithmetic", () => {
  it("median of odd and even counts, unsorted input", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });

  it("orientedRatio", () => {
    expect(orientedRatio(50, 100, true)).toBe(0.5);
    expect(orientedRatio(50, 100, false)).toBe(2);
  });

  it("judge refuses unequal sides and non-positive values", () => {
    const v = { higherIsBetter: true, target: 1, targetOf: "ratio" as const };
    expect(() => judge([1, 2], [1], v)).toThrow(/as many/);
    expect(() => judge([0], [1], v)).toThrow(/positive/);
    expect(() => judge([1], [Number.POSITIVE_INFINITY], v)).toThrow(/positive/);
  });

  it("a target met exactly passes", () => {
    expect(judge([8], [10], { higherIsBetter: true, target: 0.8, targetOf: "ratio" }).pass).toBe(true);
    expect(judge([10], [1], { higherIsBetter: false, target: 10, targetOf: "ours" }).pass).toBe(true);
  });
});

describe("peer lookup", () => {
  it("finds an executable on PATH, not a directory or a missing name", () => {
    expect(findOnPath("sh", "/nonexistent:/bin:/usr/bin")).toMatch(/\/sh$/);
    expect(findOnPath("ktv-no-such-binary-here", "/bin:/usr/bin")).toBeNull();
    expect(findOnPath("bin", "/usr")).toBeNull();
    expect(findOnPath("sh", "")).toBeNull();
  });

  it("a missing peer has no version", () => {
    expect(peerVersion("ktv-no-such-binary-here")).toBeNull();
  });
});
