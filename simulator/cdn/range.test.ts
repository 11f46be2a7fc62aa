import { describe, expect, it } from "vitest";
import { ifRangeMatches, noneMatch, parseRange } from "./range.ts";

describe("parseRange", () => {
  const size = 1000;
  it.each([
    ["bytes=0-99", { kind: "range", start: 0, end: 99 }],
    ["bytes=900-", { kind: "range", start: 900, end: 999 }],
    ["bytes=-100", { kind: "range", start: 900, end: 999 }],
    ["bytes=-5000", { kind: "range", start: 0, end: 999 }],
    ["bytes=990-5000", { kind: "range", start: 990, end: 999 }],
    ["bytes = 10 - 20", { kind: "range", start: 10, end: 20 }],
    ["BYTES=1-1", { kind: "range", start: 1, end: 1 }],
    ["bytes=999-999", { kind: "range", start: 999, end: 999 }],
  ])("%s is a range", (h, want) => expect(parseRange(h, size)).toEqual(want));

  it.each(["bytes=1000-", "bytes=1000-1001", "bytes=99999999999999999999999-", "bytes=-0"])(
    "%s is unsatisfiable",
    (h) => expect(parseRange(h, size).kind).toBe("unsatisfiable"),
  );

  it.each([
    "bytes=",
    "bytes=-",
    "bytes=a-b",
    "items=0-10",
    "0-10",
    "bytes=5-3",
    "bytes=0-1,5-9",
    "x".repeat(500),
  ])("%s is ignored (whole file)", (h) => expect(parseRange(h, size).kind).toBe("ignored"));

  it("no header is no range", () => expect(parseRange(undefined, size)).toEqual({ kind: "none" }));
});

describe("validators", () => {
  const etag = '"abc"';
  it("If-Range applies the range only for our exact strong ETag", () => {
    expect(ifRangeMatches(undefined, etag)).toBe(true);
    expect(ifRangeMatches('"abc"', etag)).toBe(true);
    expect(ifRangeMatches('W/"abc"', etag)).toBe(false);
    expect(ifRangeMatches('"other"', etag)).toBe(false);
    expect(ifRangeMatches("Wed, 21 Oct 2015 07:28:00 GMT", etag)).toBe(false);
  });
  it("If-None-Match matches any listed tag or *", () => {
    expect(noneMatch(undefined, etag)).toBe(false);
    expect(noneMatch('"x", "abc"', etag)).toBe(true);
    expect(noneMatch('W/"abc"', etag)).toBe(true);
    expect(noneMatch("*", etag)).toBe(true);
    expect(noneMatch('"x"', etag)).toBe(false);
  });
});
