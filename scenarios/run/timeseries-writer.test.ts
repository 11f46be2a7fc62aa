import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { TimeseriesPoint } from "../../reports/format.ts";
import { TimeseriesWriter } from "./timeseries-writer.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const point = (s: number, vus: number): TimeseriesPoint =>
  ({
    t: 1_000_000 + s * 1000,
    elapsed_s: s,
    vus,
    iterations: s,
    errors: 0,
    errors_by_code: {},
    bytes_downloaded: 0,
    billable_requests: 0,
    metrics: { ttfa_ms: { count: 1, p50: s, p95: s, p99: s, max: s } },
  }) as TimeseriesPoint;

describe("timeseries.ndjson written as the run goes", () => {
  it("appends each point, keeps only its time and VUs, and names the file only at close", () => {
    const dir = mkdtempSync(join(tmpdir(), "ktv-ts-writer-"));
    dirs.push(dir);
    const w = new TimeseriesWriter(dir);
    const points = [point(1, 4), point(2, 8), point(3, 0)];
    for (const p of points) w.add(p);
    // Under its temporary name until the run ends: a reader never takes half a series for the whole.
    expect(existsSync(join(dir, "timeseries.ndjson"))).toBe(false);
    const tmp = readdirSync(dir).find((f) => f.startsWith("timeseries.ndjson.tmp-"))!;
    expect(readFileSync(join(dir, tmp), "utf8").trim().split("\n")).toHaveLength(3);
    expect(w.length).toBe(3);
    expect(w.load).toEqual([
      { elapsed_s: 1, vus: 4 },
      { elapsed_s: 2, vus: 8 },
      { elapsed_s: 3, vus: 0 },
    ]);
    w.close();
    w.close();
    const lines = readFileSync(join(dir, "timeseries.ndjson"), "utf8").trim().split("\n");
    expect(lines.map((l) => JSON.parse(l))).toEqual(points);
    expect(readdirSync(dir)).toEqual(["timeseries.ndjson"]);
    expect(() => w.add(point(4, 1))).toThrow(/after close/);
  });
});
