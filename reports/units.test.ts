import { describe, expect, it } from "vitest";
import { fmt, fmtBytes, fmtDuration, fmtP, fmtPct, fmtTime, unitOf } from "./units.ts";

describe("units and formatting", () => {
  it("reads the unit from the metric name", () => {
    expect(unitOf("ttfa_ms")).toBe("ms");
    expect(unitOf("mix_cost_us")).toBe("µs");
    expect(unitOf("vendor_request_ms{route:/search/song}")).toBe("ms");
    expect(unitOf("download_mbps")).toBe("Mb/s");
    expect(unitOf("iterations")).toBe("");
  });

  it("formats numbers, percentages, p-values, bytes, durations and times", () => {
    expect([fmt(0), fmt(0.01234), fmt(4.567), fmt(45.67), fmt(1234.5), fmt(0.0001)]).toEqual([
      "0",
      "0.0123",
      "4.57",
      "45.7",
      "1,235",
      "1.00e-4",
    ]);
    expect([fmt(null), fmt(Number.NaN), fmt(Number.POSITIVE_INFINITY)]).toEqual(["–", "–", "∞"]);
    expect([fmtPct(0.1), fmtPct(0.0213), fmtPct(0.3, true), fmtPct(-0.05, true)]).toEqual([
      "10%",
      "2.13%",
      "+30%",
      "-5.00%",
    ]);
    expect(fmtPct(Number.POSITIVE_INFINITY, true)).toBe("+∞%");
    expect([fmtP(0.0123), fmtP(1.2e-9), fmtP(null)]).toEqual(["0.0123", "1.2e-9", "–"]);
    expect([fmtBytes(999), fmtBytes(3_993_049_619)]).toEqual(["999 B", "3.99 GB"]);
    expect([fmtDuration(12), fmtDuration(60), fmtDuration(3725)]).toEqual(["12 s", "1 min 0 s", "1 h 2 min"]);
    expect(fmtTime("2025-06-01T08:00:00.000Z")).toBe("2025-06-01 08:00:00 UTC");
    expect(fmtTime("soon")).toBe("soon");
  });
});
