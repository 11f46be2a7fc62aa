import { describe, expect, it } from "vitest";
import { baseline } from "../fixtures/make-results.ts";
import type { FaultEventLine } from "../format.ts";
import { bucketLabels, buildCharts, cdfOf } from "./charts.ts";
import { faultCounts, faultTracks } from "./faults.ts";

describe("chart specs", () => {
  const r = { dir: "d", ...baseline(1) };
  const { charts, faults } = buildCharts(r);

  it("give every plot a title, axis labels with units and labelled series", () => {
    for (const c of charts) {
      expect(c.title.length, c.id).toBeGreaterThan(5);
      for (const axis of [c.x, c.y, ...(c.y2 ? [c.y2] : [])]) {
        expect(axis.label, `${c.id} axis`).toMatch(/\(.+\)|\/s$|virtual users|billing mode/);
      }
      expect(c.series.length, c.id).toBeGreaterThan(0);
      for (const s of c.series) {
        expect(s.label.length, c.id).toBeGreaterThan(0);
        expect(s.color, c.id).toMatch(/^#[0-9a-f]{6}$/);
      }
      expect(c.empty, c.id).toBeUndefined();
      expect(c.data).toHaveLength(c.series.length + 1);
      for (const col of c.data) expect(col.length, c.id).toBe(c.data[0]!.length);
    }
  });

  it("computes bandwidth in Mb/s from the bytes of each interval", () => {
    const bw = charts.find((c) => c.id === "bandwidth")!;
    r.timeseries.forEach((p, i) => {
      expect(bw.data[1]![i]).toBeCloseTo((p.bytes_downloaded * 8) / 1e6, 9);
    });
  });

  it("cross-tabulates billing by mode and vendor from the ledger rows", () => {
    const bars = charts.find((c) => c.id === "billing-mix")!;
    expect(bars.x.categories).toEqual(["Count (0)", "User (1)", "Room (2)", "Master (3)"]);
    expect(bars.series.map((s) => s.label)).toEqual([
      "Default (0)",
      "Vendor1 (1)",
      "Vendor2 (2)",
      "Vendor3 (4)",
    ]);
    let total = 0;
    for (const col of bars.data.slice(1)) for (const v of col) total += v ?? 0;
    expect(total).toBe(r.ledger.rows.length);
  });

  it("overlays the faults on the time plots", () => {
    expect(faults.map((f) => f.fault_id)).toEqual(["resource-latency", "vendor-busy"]);
    expect(charts.filter((c) => c.faults).map((c) => c.x.kind)).toEqual(
      charts.filter((c) => c.faults).map(() => "time"),
    );
  });

  it("places faults from the first interval when started_at is not a date", () => {
    const odd = { dir: "d", ...baseline(1, { durationS: 40 }) };
    odd.summary.started_at = "sometime";
    expect(buildCharts(odd).faults.map((f) => [f.fault_id, Math.floor(f.first_s)])).toEqual(
      buildCharts({ dir: "d", ...baseline(1, { durationS: 40 }) }).faults.map((f) => [
        f.fault_id,
        Math.floor(f.first_s),
      ]),
    );
  });

  it("CDF of a histogram, and bucket labels", () => {
    expect(cdfOf({ bounds: [1, 2, 3, 4], counts: [1, 1, 2, 0, 0] })).toEqual([
      [1, 25],
      [2, 50],
      [3, 100],
    ]);
    expect(cdfOf({ bounds: [1], counts: [0, 0] })).toEqual([]);
    expect(bucketLabels([0.5, 1, 5])).toEqual(["≤ 0.5", "0.5–1", "1–5", "> 5"]);
  });
});

describe("fault tracks", () => {
  const start = 1_000_000;
  const ev = (s: number, id: string, effect: Record<string, unknown>): FaultEventLine => ({
    time: start + s * 1000,
    fault_id: id,
    kind: id === "slow" ? "latency" : "error",
    request_key: `k${s}`,
    effect,
  });
  const events = [
    ev(10, "slow", { delay_ms: 100 }),
    ev(11, "slow", { delay_ms: 300 }),
    ev(12.5, "slow", { delay_ms: 200 }),
    ev(30, "slow", { delay_ms: 900 }),
    ev(20, "busy", { code: 1017097 }),
    ev(21, "busy", { http_status: 503 }),
    ev(-5, "busy", { code: 1 }),
    ev(500, "busy", { code: 1 }),
  ];

  it("merges nearby events into spans and skips events outside the run", () => {
    const [busy, slow] = faultTracks(events, start, 60);
    expect(slow).toMatchObject({ fault_id: "slow", kind: "latency", events: 4, first_s: 10, last_s: 30 });
    expect(slow!.spans).toEqual([
      { from_s: 10, to_s: 12.5, events: 3 },
      { from_s: 30, to_s: 30, events: 1 },
    ]);
    expect(slow!.effect).toBe("delay median 200 ms (max 900 ms)");
    expect(busy).toMatchObject({ fault_id: "busy", events: 2 });
    expect(busy!.effect).toBe("code 1017097 ×1, HTTP 503 ×1");
    expect(busy!.color).not.toBe(slow!.color);
  });

  it("counts events per interval", () => {
    const counts = faultCounts(events, start, [10, 20, 30, 40]);
    expect(counts.get("slow")).toEqual([1, 2, 1, 0]);
    expect(counts.get("busy")).toEqual([0, 1, 1, 0]);
  });
});
