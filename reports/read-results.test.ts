import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseline, writeResults } from "./fixtures/make-results.ts";
import { RESULT_FILES, ResultsError, readResults } from "./read-results.ts";

let root: string;
let n = 0;
const fresh = () => writeResults(join(root, `run-${++n}`), baseline(1, { durationS: 12 }));

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "ktv-read-results-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("readResults", () => {
  it("reads the five files back as written", () => {
    const files = baseline(1, { durationS: 12 });
    const r = readResults(writeResults(join(root, "ok"), files));
    expect(r.summary).toEqual(files.summary);
    expect(r.timeseries).toEqual(files.timeseries);
    expect(r.ledger.rows.length).toBe(files.summary.counters.billable_requests);
    expect(r.faultEvents).toEqual(files.faultEvents);
    expect(r.environment).toEqual(files.environment);
  });

  it("falls back to the summary's environment when environment.json is absent", () => {
    const dir = fresh();
    unlinkSync(join(dir, RESULT_FILES.environment));
    expect(readResults(dir).environment.seed).toBe(1);
  });

  it("names a missing directory or file", () => {
    expect(() => readResults(join(root, "nope"))).toThrow(/not a results directory/);
    const dir = fresh();
    unlinkSync(join(dir, RESULT_FILES.timeseries));
    expect(() => readResults(dir)).toThrow(ResultsError);
    expect(() => readResults(dir)).toThrow(/timeseries\.ndjson: missing/);
  });

  it("rejects another format, broken JSON and schema violations with the path", () => {
    const dir = fresh();
    const summaryPath = join(dir, RESULT_FILES.summary);
    const summary = JSON.parse(readFileSync(summaryPath, "utf8"));
    writeFileSync(summaryPath, JSON.stringify({ ...summary, format: "k6-summary/0" }));
    expect(() => readResults(dir)).toThrow(/format is "k6-summary\/0", expected "ktv-results\/1"/);
    writeFileSync(summaryPath, "{ not json");
    expect(() => readResults(dir)).toThrow(/summary\.json: not valid JSON/);
    summary.metrics.ttfa_ms.p95 = "fast";
    writeFileSync(summaryPath, JSON.stringify(summary));
    expect(() => readResults(dir)).toThrow(/\/metrics\/ttfa_ms\/p95/);
  });

  it("names the bad line of an NDJSON file", () => {
    const dir = fresh();
    const path = join(dir, RESULT_FILES.timeseries);
    const lines = readFileSync(path, "utf8").split("\n");
    lines[2] = "{";
    writeFileSync(path, lines.join("\n"));
    expect(() => readResults(dir)).toThrow(/timeseries\.ndjson:3: not valid JSON/);
    lines[2] = JSON.stringify({ t: 1 });
    writeFileSync(path, lines.join("\n"));
    expect(() => readResults(dir)).toThrow(/timeseries\.ndjson:3: not in the results format/);
  });

  it("accepts additive extensions and an empty fault log", () => {
    const dir = fresh();
    const summaryPath = join(dir, RESULT_FILES.summary);
    const summary = JSON.parse(readFileSync(summaryPath, "utf8"));
    writeFileSync(summaryPath, JSON.stringify({ ...summary, future_field: { x: 1 } }));
    writeFileSync(join(dir, RESULT_FILES.faultEvents), "");
    const r = readResults(dir);
    expect(r.faultEvents).toEqual([]);
  });
});
