import { describe, expect, it } from "vitest";
import { MetricSet } from "../metrics/set.ts";
import { observe, ThresholdBook } from "./evaluate.ts";
import { parseThresholds, type Threshold } from "./parser.ts";

function thresholdsOf(spec: Record<string, unknown[]>): Threshold[] {
  const { thresholds, errors } = parseThresholds(spec);
  expect(errors).toEqual([]);
  return thresholds;
}

function one(key: string, expr: unknown): Threshold {
  return thresholdsOf({ [key]: [expr] })[0]!;
}

describe("observe", () => {
  const set = new MetricSet();
  for (let v = 1; v <= 100; v++) set.record("ttfa_ms", v * 10);
  set.add("iterations", 50);
  for (let i = 0; i < 200; i++) set.rate("errors", i < 10);
  for (let i = 0; i < 4; i++) set.rate("errors{code:1017019}", true);
  set.rate("conformance{rule:a}", true);
  set.rate("conformance{rule:a}", false);

  it("aggregates trends", () => {
    expect(observe(one("ttfa_ms", "p(95)<1"), set, 10)).toBeCloseTo(950, -1);
    expect(observe(one("ttfa_ms", "med<1"), set, 10)).toBeCloseTo(500, -1);
    expect(observe(one("ttfa_ms", "max<1"), set, 10)).toBeCloseTo(1000, -1);
    expect(observe(one("ttfa_ms", "min<1"), set, 10)).toBeCloseTo(10, 1);
    expect(observe(one("ttfa_ms", "avg<1"), set, 10)).toBeCloseTo(505, -1);
    expect(observe(one("ttfa_ms", "count<1"), set, 10)).toBe(100);
  });

  it("aggregates counters as totals and per-second rates", () => {
    expect(observe(one("iterations", "count>1"), set, 10)).toBe(50);
    expect(observe(one("iterations", "rate>1"), set, 10)).toBe(5);
  });

  it("rates: errors{code} divides by every iteration; conformance{rule} by its own runs", () => {
    expect(observe(one("errors", "rate<1"), set, 10)).toBeCloseTo(0.05);
    expect(observe(one("errors{code:1017019}", "rate<1"), set, 10)).toBeCloseTo(4 / 200);
    expect(observe(one("errors{code:1017030}", "rate<1"), set, 10)).toBe(0);
    expect(observe(one("conformance{rule:a}", "rate==1"), set, 10)).toBe(0.5);
  });

  it("nothing to aggregate is null, not zero", () => {
    const empty = new MetricSet();
    expect(observe(one("ttfa_ms", "p(95)<1"), empty, 10)).toBeNull();
    expect(observe(one("errors", "rate<1"), empty, 10)).toBeNull();
    expect(observe(one("conformance{rule:x}", "rate==1"), set, 10)).toBeNull();
    expect(observe(one("iterations", "rate>1"), empty, 0)).toBeNull();
    expect(observe(one("ttfa_ms", "count==0"), empty, 10)).toBe(0);
  });
});

/** One interval's set: `n` TTFA samples of `ms`, `fail` failed of `n` iterations. */
function interval(ms: number, n = 10, fail = 0): MetricSet {
  const s = new MetricSet();
  for (let i = 0; i < n; i++) {
    s.record("ttfa_ms", ms);
    s.rate("errors", i < fail);
  }
  return s;
}

function runBook(book: ThresholdBook, intervals: MetricSet[]) {
  const total = new MetricSet();
  const breaches = intervals.map((s, i) => {
    total.mergeSet(s);
    return book.onInterval(s, total, (i + 1) * 1000);
  });
  return { total, breaches };
}

describe("ThresholdBook", () => {
  it("a whole-run threshold passes or fails on the run's aggregate", () => {
    const book = new ThresholdBook(thresholdsOf({ ttfa_ms: ["p(95)<500", "p(50)<150"] }), 1000);
    const { total } = runBook(book, [interval(100), interval(100), interval(900, 2)]);
    const [p95, p50] = book.final(total, 3);
    expect(p95).toMatchObject({ metric: "ttfa_ms", expression: "p(95)<500", ok: false });
    expect(p95!.observed).toBeCloseTo(900, -1);
    expect(p50).toMatchObject({ ok: true });
  });

  it("a sliding window fails when any window fails, reporting the worst window and the first breach", () => {
    const book = new ThresholdBook(thresholdsOf({ ttfa_ms: ["p(95)<500 over 2s"] }), 1000);
    // Windows end at 2s [100,100], 3s [100,900], 4s [900,100], 5s [100,100]: the whole run's p95 is < 500 too.
    const { total } = runBook(book, [
      interval(100, 20),
      interval(100, 20),
      interval(900, 5),
      interval(100, 20),
      interval(100, 20),
    ]);
    const [r] = book.final(total, 5);
    expect(r).toMatchObject({ ok: false, first_breach_s: 3 });
    expect(r!.observed).toBeCloseTo(900, -1);
  });

  it("a window that never breaks passes, with its worst value", () => {
    const book = new ThresholdBook(thresholdsOf({ errors: ["rate<0.5 over 2s"] }), 1000);
    const { total } = runBook(book, [interval(1, 10, 1), interval(1, 10, 4), interval(1, 10, 0)]);
    const [r] = book.final(total, 3);
    expect(r).toMatchObject({ ok: true, first_breach_s: null });
    expect(r!.observed).toBeCloseTo(0.25);
  });

  it("a window spans real time: a stretched interval counts for the seconds it covered", () => {
    // A runner that fell behind flushed one interval 3 s long (30 iterations), then caught up.
    const book = new ThresholdBook(thresholdsOf({ iterations: ["rate<15 over 2s"] }), 1000);
    const counts = (n: number) => {
      const s = new MetricSet();
      s.add("iterations", n);
      return s;
    };
    const total = new MetricSet();
    const ends = [1000, 4000, 5000, 6000];
    [10, 30, 10, 10].forEach((n, i) => {
      const s = counts(n);
      total.mergeSet(s);
      book.onInterval(s, total, ends[i]!);
    });
    // At 5 s the window holds the 3 s interval and the next: 40 iterations over 4 s, 10/s (not 40 over 2).
    // At 6 s it holds the last two intervals: 20 over 2 s.
    const [r] = book.final(total, 6);
    expect(r).toMatchObject({ ok: true, first_breach_s: null, observed: 10 });
  });

  it("a run shorter than the window is one window: the whole run", () => {
    const book = new ThresholdBook(thresholdsOf({ ttfa_ms: ["p(95)<500 over 30s"] }), 1000);
    const { total } = runBook(book, [interval(900), interval(900)]);
    expect(book.final(total, 2)[0]).toMatchObject({ ok: false, first_breach_s: 2 });
  });

  it("abortOnFail reports a failing threshold during the run, after delayAbortEval", () => {
    const book = new ThresholdBook(
      thresholdsOf({
        errors: [{ threshold: "rate<0.1", abortOnFail: true, delayAbortEval: "2s" }],
        ttfa_ms: ["p(95)<1"],
      }),
      1000,
    );
    const { breaches } = runBook(book, [interval(100, 10, 5), interval(100, 10, 5), interval(100, 10, 5)]);
    expect(breaches.map((b) => b.length)).toEqual([0, 1, 1]);
    expect(breaches[1]![0]).toMatchObject({ atS: 2 });
    expect(breaches[1]![0]!.threshold.metric.key).toBe("errors");
  });

  it("no samples yet does not abort during the run, but fails at the end", () => {
    const book = new ThresholdBook(
      thresholdsOf({ ttfa_ms: [{ threshold: "p(95)<1000", abortOnFail: true }] }),
      1000,
    );
    const { total, breaches } = runBook(book, [new MetricSet(), new MetricSet()]);
    expect(breaches.flat()).toEqual([]);
    expect(book.final(total, 2)[0]).toMatchObject({ ok: false, observed: null });
  });
});
