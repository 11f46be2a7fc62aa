import { describe, expect, it } from "vitest";
import { capacityModel } from "./capacity.ts";
import { kneeOf } from "./summary.ts";

const base = {
  durationS: 60,
  ledger: { billable: 30, by_mode: { "0": 20, "1": 10 }, by_vendor: { "0": 24, "2": 6 } },
  bytesDownloaded: 75_000_000,
  mediaBytes: 15_000_000,
  vusSeries: [8, 8, 8, 8],
  usersPerRoom: 4,
  extrapolateRooms: [1000],
  knee: null,
};

describe("capacity model", () => {
  it("turns the run's totals into hourly and per-second rates", () => {
    const m = capacityModel(base);
    expect(m.billable_per_hour).toEqual({
      total: 1800,
      by_mode: { "0": 1200, "1": 600 },
      by_vendor: { "0": 1440, "2": 360 },
    });
    expect(m.cdn_egress_mbps).toBe(10); // 75e6 B × 8 / 60 s / 1e6
    expect(m.media_relay_mbps).toBe(2); // 15e6 × 8 / 60 / 1e6
  });

  it("divides by the average users and rooms, and extrapolates per room", () => {
    const m = capacityModel(base);
    expect(m.per_user).toEqual({ billable_per_hour: 225, cdn_mbps: 1.25, media_mbps: 0.25 });
    expect(m.per_room).toEqual({ billable_per_hour: 900, cdn_mbps: 5, media_mbps: 1 });
    expect(m.extrapolated).toEqual([
      { rooms: 1000, billable_per_hour: 900_000, cdn_egress_mbps: 5000, media_relay_mbps: 1000 },
    ]);
  });

  it("writes each formula with the run's numbers", () => {
    const f = capacityModel(base).formulas;
    expect(f).toContain("billable_per_hour = ledger_rows / duration_s × 3600 = 30 / 60 × 3600 = 1800");
    expect(f).toContain(
      "cdn_egress_mbps = bytes_downloaded × 8 / duration_s / 1e6 = 75000000 × 8 / 60 / 1e6 = 10",
    );
    expect(f).toContain("users = mean active VUs over 4 intervals = 8; rooms = mean ⌈VUs / 4⌉ = 2");
    expect(f.at(-1)).toBe(
      "at 1000 rooms: billable_per_hour = 900 × 1000; cdn_egress_mbps = 5 × 1000; media_relay_mbps = 1 × 1000",
    );
  });

  it("rooms count partly filled rooms: 5 users in rooms of 4 are 2 rooms", () => {
    expect(capacityModel({ ...base, vusSeries: [5] }).per_room.billable_per_hour).toBe(900);
  });

  it("a run of no time or no users divides by nothing without NaN", () => {
    const m = capacityModel({ ...base, durationS: 0, vusSeries: [] });
    expect(m.billable_per_hour.total).toBe(0);
    expect(m.per_user).toEqual({ billable_per_hour: 0, cdn_mbps: 0, media_mbps: 0 });
    expect(JSON.stringify(m)).not.toMatch(/NaN|Infinity/);
    expect(m.formulas[0]).toBe("the run lasted no time: every rate is 0");
  });
});

describe("the knee", () => {
  const points = [5, 10, 15, 20, 25].map((s, i) => ({
    t: s * 1000,
    elapsed_s: s,
    vus: (i + 1) * 8,
    iterations: 0,
    errors: 0,
    errors_by_code: {},
    bytes_downloaded: 0,
    billable_requests: 0,
    metrics: {},
  }));

  it("is the load at the first breach of any threshold", () => {
    const results = [
      {
        metric: "ttfa_ms",
        expression: "p(95)<800 over 10s",
        ok: false,
        observed: 900,
        abortOnFail: true,
        first_breach_s: 20,
      },
      {
        metric: "mix_lateness_ms",
        expression: "p(99)<5 over 10s",
        ok: false,
        observed: 9,
        abortOnFail: false,
        first_breach_s: 14,
      },
      { metric: "errors", expression: "rate<0.01", ok: true, observed: 0, abortOnFail: false },
    ];
    expect(kneeOf(results, [], points, 4)).toEqual({
      vus: 24,
      rooms: 6,
      metric: "mix_lateness_ms",
      expression: "p(99)<5 over 10s",
      at_s: 14,
    });
  });

  it("is null when nothing broke", () => {
    expect(
      kneeOf(
        [{ metric: "ttfa_ms", expression: "p(95)<1", ok: true, observed: 0, abortOnFail: false }],
        [],
        points,
        4,
      ),
    ).toBeNull();
  });
});
