import { describe, expect, it } from "vitest";
import { SEQUENCE_WINDOW, SequenceTracker } from "./sequence.ts";

const run = (seqs: number[]) => {
  const t = new SequenceTracker();
  const verdicts = seqs.map((s) => t.push(s));
  return { t, verdicts };
};
const counts = (t: SequenceTracker) => ({
  lost: t.lost,
  gaps: t.gaps,
  duplicates: t.duplicates,
  reordered: t.reordered,
});

describe("SequenceTracker", () => {
  it("counts nothing for an in-order stream, from any starting number", () => {
    const { t, verdicts } = run([100, 101, 102, 103]);
    expect(verdicts).toEqual(["first", "in_order", "in_order", "in_order"]);
    expect(counts(t)).toEqual({ lost: 0, gaps: 0, duplicates: 0, reordered: 0 });
  });

  it("counts each missing frame and each gap", () => {
    const { t } = run([0, 1, 4, 5, 9]);
    expect(counts(t)).toEqual({ lost: 5, gaps: 2, duplicates: 0, reordered: 0 });
    expect(t.highest).toBe(9);
  });

  it("takes a late frame back out of the loss and calls it reordered", () => {
    const { t, verdicts } = run([0, 2, 1, 3]);
    expect(verdicts).toEqual(["first", "gap", "reordered", "in_order"]);
    expect(counts(t)).toEqual({ lost: 0, gaps: 1, duplicates: 0, reordered: 1 });
  });

  it("tells duplicates of the newest and of older frames from reordering", () => {
    const { t, verdicts } = run([0, 1, 1, 2, 0, 2]);
    expect(verdicts).toEqual(["first", "in_order", "duplicate", "in_order", "duplicate", "duplicate"]);
    expect(counts(t)).toEqual({ lost: 0, gaps: 0, duplicates: 3, reordered: 0 });
  });

  it("a reordered frame seen twice is a duplicate the second time", () => {
    const { t } = run([0, 2, 1, 1]);
    expect(counts(t)).toEqual({ lost: 0, gaps: 1, duplicates: 1, reordered: 1 });
  });

  it("wraps at 2^32", () => {
    const { t, verdicts } = run([0xfffffffe, 0xffffffff, 0, 2, 1]);
    expect(verdicts).toEqual(["first", "in_order", "in_order", "gap", "reordered"]);
    expect(counts(t)).toEqual({ lost: 0, gaps: 1, duplicates: 0, reordered: 1 });
  });

  it("keeps the loss of frames older than the window when they finally arrive", () => {
    const far = SEQUENCE_WINDOW + 10;
    const { t } = run([0, far, 1]);
    expect(t.lost).toBe(far - 1);
    expect(t.reordered).toBe(1);
    // Within the window the same late arrival would have been taken back out.
    const near = run([0, far, far - 5]).t;
    expect(near.lost).toBe(far - 2);
  });

  it("restart() forgets the numbering, not the counts", () => {
    const { t } = run([0, 5]);
    t.restart();
    expect(t.push(1000)).toBe("first");
    expect(t.push(1001)).toBe("in_order");
    expect(t.push(5)).toBe("reordered");
    expect(counts(t)).toEqual({ lost: 4, gaps: 1, duplicates: 0, reordered: 1 });
  });
});
