import { describe, expect, it } from "vitest";
import { parseRat, ratString } from "./rational.ts";
import { parseSegment, parseSequence, segmentString, sequenceString } from "./segment.ts";
import { ExecutionTuple, executionTuple } from "./tuple.ts";

// Tables from k6's lib/execution_segment_test.go (the cases named after its tests), plus the properties the
// split must have for any sequence: the segments' shares sum to the whole, and their owned indices cover
// 0..n-1 exactly once.

const seg = (s: string) => segmentString(parseSegment(s));
const tuple = (segment: string, sequence?: string) => executionTuple(segment, sequence);

describe("parsing (TestExecutionSegmentUnmarshalText, TestExecutionSegmentNew)", () => {
  it.each([
    ["0:1", "0:1"],
    ["0.5:0.75", "1/2:3/4"],
    ["1/2:3/4", "1/2:3/4"],
    ["50%:75%", "1/2:3/4"],
    ["2/4:75%", "1/2:3/4"],
    ["75%", "0:3/4"],
    ["1/3", "0:1/3"],
    ["0.5:1", "1/2:1"],
    ["50%:100%", "1/2:1"],
    ["", "0:1"],
  ])("%j is %s (and parses back the same)", (input, out) => {
    expect(seg(input)).toBe(out);
    expect(seg(seg(input))).toBe(out);
  });

  it.each([
    ["125%", /end must be at most 1, got 5\/4/],
    ["1a5%", /'1a5%' is not a valid percentage, decimal or fraction/],
    ["1a5", /not a valid/],
    ["1a5%:2/3", /not a valid/],
    ["125%:250%", /at most 1/],
    ["55%:50%", /start \(11\/20\) must be less than the end \(1\/2\)/],
    ["-1:1", /start must be at least 0, got -1/],
    ["0:2", /at most 1, got 2/],
    ["1/2:1/3", /must be less than/],
    ["1/2:1/2", /must be less than/],
    ["1/0", /not a valid/],
    ["12.5%", /not a valid/],
  ])("%j is refused naming why", (input, why) => {
    expect(() => parseSegment(input)).toThrow(why);
  });

  it("decimals and exponents are exact", () => {
    expect(ratString(parseRat("0.1") as never)).toBe("1/10");
    expect(ratString(parseRat("5e-1") as never)).toBe("1/2");
    expect(ratString(parseRat(".25") as never)).toBe("1/4");
  });
});

describe("sequences (TestExecutionSegmentStringSequences)", () => {
  it.each([
    ["0.5,1", ["1/2:1"]],
    ["1/2,1", ["1/2:1"]],
    ["1/3,2/3", ["1/3:2/3"]],
    ["0,1/3,2/3", ["0:1/3", "1/3:2/3"]],
    ["0,1/3,2/3,1", ["0:1/3", "1/3:2/3", "2/3:1"]],
    ["0.5,0.7", ["1/2:7/10"]],
    ["0.5,0.7,1", ["1/2:7/10", "7/10:1"]],
    ["0,1/13,2/13,1/3,1/2,3/4,1", ["0:1/13", "1/13:2/13", "2/13:1/3", "1/3:1/2", "1/2:3/4", "3/4:1"]],
  ])("%s", (input, segments) => {
    const s = parseSequence(input)!;
    expect(s.map(segmentString)).toEqual(segments);
  });

  it("prints back canonically", () => {
    expect(sequenceString(parseSequence("0,0.5,1")!)).toBe("0,1/2,1");
    expect(parseSequence("")).toBeNull();
  });

  it.each([
    ["0.5", /at least 2 points/],
    ["1,1", /must be less than/],
    ["-0.5,1", /at least 0/],
    ["1/2,1/2", /must be less than/],
    ["1/2,1/3", /must be less than/],
    ["0,1,1/2", /point 3.*must be less than/],
    ["0,x,1", /'x' is not a valid/],
  ])("%j is refused", (input, why) => {
    expect(() => parseSequence(input)).toThrow(why);
  });

  it("a segment that is not one of the sequence's is refused, naming the sequence's segments", () => {
    expect(() => tuple("0:1/3", "0,1/2,1")).toThrow(
      /execution segment 0:1\/3 is not one of the sequence's segments \(0:1\/2, 1\/2:1\)/,
    );
    expect(() => tuple("1/4:3/4", "0,1/2,1")).toThrow(/not one of/);
    expect(() => executionTuple(undefined, "0,1/2,1")).toThrow(/needs the execution segment/);
  });

  it("a sequence whose common denominator is huge is refused instead of striping for minutes", () => {
    expect(() => tuple("0:1/999983", "0,1/999983,1/999979,1")).toThrow(/least common denominator/);
  });
});

describe("striping (TestGetStripedOffsets, TestSequenceLCD)", () => {
  it.each([
    ["0,0.3,0.5,0.6,0.7,0.8,0.9,1", "0:0.3", 0, [4, 3, 3], 10],
    ["0,0.3,0.5,0.6,0.7,0.8,0.9,1", "0.3:0.5", 1, [4, 6], 10],
    ["0,0.3,0.5,0.6,0.7,0.8,0.9,1", "0.5:0.6", 2, [10], 10],
    ["0,0.3,0.5,0.6,0.7,0.8,0.9,1", "0.6:0.7", 3, [10], 10],
    ["0,0.3,0.5,0.6,0.7,0.8,0.9,1", "0.8:0.9", 8, [10], 10],
    ["0,0.3,0.5,0.6,0.7,0.8,0.9,1", "0.9:1", 9, [10], 10],
    ["0,0.2,0.5,0.6,0.7,0.8,0.9,1", "0.9:1", 9, [10], 10],
    ["0,0.2,0.5,0.6,0.7,0.8,0.9,1", "0:0.2", 1, [4, 6], 10],
    ["0,0.2,0.5,0.6,0.7,0.8,0.9,1", "0.6:0.7", 3, [10], 10],
    ["0,0.2,0.5", "0:0.2", 3, [6, 4], 10],
    ["0,0.2,0.5", "0.2:0.5", 1, [4, 2, 4], 10],
    ["0,2/5,4/5", "0:2/5", 0, [3, 2], 5],
    ["0,2/5,4/5", "2/5:4/5", 1, [3, 2], 5],
    [undefined, "0:0.2", 1, [5], 5],
    [undefined, "0:1/5", 1, [5], 5],
    [undefined, "0:2/10", 1, [5], 5],
    [undefined, "0:0.4", 1, [2, 3], 5],
    [undefined, "0:2/5", 1, [2, 3], 5],
    [undefined, "2/5:4/5", 1, [3, 2], 5],
    [undefined, "0:4/10", 1, [2, 3], 5],
    [undefined, "1/10:5/10", 1, [2, 2, 4, 2], 10],
  ])("sequence %s, segment %s: start %i, offsets %j, lcd %i", (sequence, segment, start, offsets, lcd) => {
    expect(tuple(segment, sequence).stripedOffsets()).toEqual({ start, offsets, lcd });
  });

  it.each([
    ["0,0.3,0.5,0.6,0.7,0.8,0.9,1", 10],
    ["0,0.1,0.5,0.6,0.7,0.8,0.9,1", 10],
    ["0,1/3,5/6", 6],
    ["0,1/3,4/7", 21],
  ])("the least common denominator of %s is %i", (sequence, lcd) => {
    const first = segmentString(parseSequence(sequence)![0]!);
    expect(tuple(first, sequence).lcd).toBe(lcd);
  });
});

describe("scaling (TestExecutionTupleScale, TestBigScale, TestNewExecutionTuple)", () => {
  it("0:1/2 and 1/2:1 of 2 and 3, with and without the sequence", () => {
    for (const seq of [undefined, "0,0.5,1"]) {
      expect([tuple("0.5", seq).scale(2), tuple("0.5", seq).scale(3)]).toEqual([1, 2]);
      expect([tuple("0.5:1.0", seq).scale(2), tuple("0.5:1.0", seq).scale(3)]).toEqual([1, 1]);
    }
  });

  it("0:7/20 of 50 is 18", () => {
    expect(tuple("0:7/20", "0,7/20,7/10,1").scale(50)).toBe(18);
  });

  const thirds = "0,1/3,2/3,1";
  it.each([
    [undefined, undefined, { 50: 50, 1: 1, 0: 0 }],
    ["0:1", undefined, { 50: 50, 1: 1, 0: 0 }],
    ["0:1", "0,1", { 50: 50, 1: 1, 0: 0 }],
    ["0:1/3", thirds, { 50: 17, 3: 1, 2: 1, 1: 1, 0: 0 }],
    ["1/3:2/3", thirds, { 50: 17, 3: 1, 2: 1, 1: 0, 0: 0 }],
    ["2/3:1", thirds, { 50: 16, 3: 1, 2: 0, 1: 0, 0: 0 }],
  ])("segment %s of %s", (segment, sequence, table) => {
    const t = executionTuple(segment, sequence);
    for (const [v, want] of Object.entries(table)) expect(t.scale(Number(v)), `scale(${v})`).toBe(want);
  });

  it.each([
    [
      "0:1/3",
      { 50: { 50: 17, 1: 1, 0: 0 }, 20: { 50: 18, 1: 1, 0: 0 }, 3: { 50: 17 }, 2: { 50: 25 }, 1: { 50: 50 } },
    ],
    ["1/3:2/3", { 50: { 50: 17, 1: 0 }, 20: { 50: 17, 1: 0 }, 3: { 50: 17 }, 2: { 50: 25, 1: 0 }, 1: null }],
    ["2/3:1", { 50: { 50: 16 }, 20: { 50: 15 }, 3: { 50: 16 }, 2: null, 1: null }],
  ] as const)("re-cut by a value (GetNewExecutionTupleFromValue), segment %s of thirds", (segment, table) => {
    const t = tuple(segment, thirds);
    expect(t.fromValue(0)).toBeNull();
    for (const [value, scales] of Object.entries(table)) {
      const cut = t.fromValue(Number(value));
      if (scales === null) {
        expect(cut, `fromValue(${value})`).toBeNull();
        continue;
      }
      for (const [v, want] of Object.entries(scales))
        expect(cut!.scale(Number(v)), `fromValue(${value}).scale(${v})`).toBe(want);
    }
  });

  it("thirds re-cut by 20 is the sequence 0,7/20,7/10,1", () => {
    expect(tuple("0:1/3", thirds).fromValue(20)!.describe().sequence).toBe("0,7/20,7/10,1");
  });
});

describe("properties over many sequences (TestExecutionTupleScaleConsistency, ...NoWobble)", () => {
  // A deterministic spread of sequences instead of k6's time-seeded random ones: a failure reproduces.
  let x = 12345;
  const next = (m: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return 1 + (x % m);
  };
  const sequences: string[] = ["0,1/2,1", "0,1/3,2/3,1", "0,1/4,3/4,1", "0,0.3,0.5,0.6,0.7,0.8,0.9,1"];
  for (let k = 0; k < 12; k++) {
    const parts = Array.from({ length: 2 + (k % 6) }, () => next(20));
    const total = parts.reduce((a, b) => a + b, 0);
    let acc = 0;
    const points = ["0"];
    for (const p of parts) {
      acc += p;
      points.push(acc === total ? "1" : `${acc}/${total}`);
    }
    sequences.push(points.join(","));
  }

  it.each(sequences)("%s: shares sum to the whole, never shrink, and own each index once", (sequence) => {
    const segs = parseSequence(sequence)!.map(segmentString);
    const tuples = segs.map((s) => tuple(s, sequence));
    for (const v of [0, 1, 2, 3, 7, 10, 50, 99, 1000, 12345]) {
      expect(
        tuples.reduce((a, t) => a + t.scale(v), 0),
        `sum of scale(${v})`,
      ).toBe(v);
    }
    for (const t of tuples)
      for (let v = 1; v < 300; v++) expect(t.scale(v)).toBeGreaterThanOrEqual(t.scale(v - 1));
    const n = 3 * tuples[0]!.lcd + 5;
    const owner = new Array<number>(n).fill(-1);
    tuples.forEach((t, ti) => {
      for (let k = 0; k < t.scale(n); k++) {
        const g = t.globalIndex(k);
        expect(owner[g], `index ${g}`).toBe(-1);
        owner[g] = ti;
      }
    });
    expect(owner.indexOf(-1)).toBe(-1);
  });

  it("the k-th owned index is the one at which scale() steps up (k6's SegmentedIndex.GoTo)", () => {
    // A segment of length 2/7 that the striping places second: it owns 1, 4 of every 7 (0-based).
    const t = tuple("5/7:1", "0,5/7,1");
    expect(t.stripedOffsets()).toEqual({ start: 1, offsets: [3, 4], lcd: 7 });
    expect([0, 1, 2, 3, 4].map((k) => t.globalIndex(k))).toEqual([1, 4, 8, 11, 15]);
    for (const sequence of sequences.slice(0, 6)) {
      for (const s of parseSequence(sequence)!.map(segmentString)) {
        const u = tuple(s, sequence);
        for (let k = 0; k < 40; k++) {
          const g = u.globalIndex(k);
          expect([u.scale(g), u.scale(g + 1)]).toEqual([k, k + 1]);
        }
      }
    }
  });

  it("the whole test is the identity", () => {
    const t = ExecutionTuple.FULL;
    expect(t.whole).toBe(true);
    expect([t.scale(7), t.globalIndex(7)]).toEqual([7, 7]);
    expect(t.describe()).toEqual({ segment: "0:1", sequence: "0,1" });
  });
});
