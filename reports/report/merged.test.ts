import { describe, expect, it } from "vitest";
import { baseline } from "../fixtures/make-results.ts";
import type { RunResults } from "../read-results.ts";
import { RunSummarySchema, schemaProblems } from "../schema.ts";
import { renderMarkdown } from "./markdown.ts";
import { segmentChip, segmentSummary } from "./merged.ts";
import { renderReport } from "./page.ts";

const AT = new Date("2025-06-01T09:00:00Z");

function results(extra: Record<string, unknown>): RunResults {
  const files = baseline(1);
  return { dir: "/results/x", ...files, summary: { ...files.summary, ...extra } };
}

const MERGED = {
  execution_segment: "0:1",
  execution_segment_sequence: "0,1/2,1",
  merged_from: [
    {
      dir: "/runs/a",
      hostname: "host-a",
      started_at: "2025-06-01T08:00:00.000Z",
      ended_at: "2025-06-01T08:01:00.000Z",
      execution_segment: "0:1/2",
      iterations: 24,
      thresholds_ok: true,
    },
    {
      dir: "/runs/b|x",
      hostname: "host-b",
      started_at: "2025-06-01T08:00:00.500Z",
      ended_at: "2025-06-01T08:01:00.500Z",
      execution_segment: "1/2:1",
      iterations: 17,
      thresholds_ok: true,
    },
  ],
};

describe("where a result's numbers came from: segments and merges", () => {
  it("says nothing for a whole, unmerged run (old results and 0:1 alike)", () => {
    for (const r of [results({}), results({ execution_segment: "0:1", execution_segment_sequence: "0,1" })]) {
      expect(segmentSummary(r.summary)).toBeNull();
      expect(segmentChip(r.summary)).toBeNull();
      const page = renderReport(r, { generatedAt: AT });
      expect(page).not.toContain("Execution segment");
      expect(page).not.toContain("Merged from");
    }
  });

  it("marks one segment's run as a share of the test, in the page and the Markdown", () => {
    const r = results({ execution_segment: "1/2:1", execution_segment_sequence: "0,1/2,1" });
    expect(segmentSummary(r.summary)).toBe(
      "segment 1/2:1 of the sequence 0,1/2,1: this instance ran only its share of the test's load; merge every segment's results with ktv merge for the whole test",
    );
    const page = renderReport(r, { generatedAt: AT });
    expect(page).toContain('<span class="status neutral">segment 1/2:1</span>');
    expect(page).toContain("<dt>Execution segment</dt><dd>segment 1/2:1 of the sequence 0,1/2,1:");
    expect(renderMarkdown(r)).toContain("| execution segment | segment 1/2:1 of the sequence 0,1/2,1:");
  });

  it("lists a merged result's instances with their own verdicts; the file validates", () => {
    const r = results(MERGED);
    expect(schemaProblems(RunSummarySchema, r.summary)).toEqual([]);
    expect(segmentSummary(r.summary)).toBe(
      "merged by ktv merge from 2 instances, together segment 0:1 of the sequence 0,1/2,1",
    );
    const page = renderReport(r, { generatedAt: AT });
    expect(page).toContain('<span class="status neutral">merged from 2</span>');
    expect(page).toContain("<h3>Merged from</h3>");
    expect(page).toContain("<td>/runs/a</td><td>host-a</td><td>0:1/2</td>");
    expect(page).toContain("<td>17</td><td>passed</td>");
    const md = renderMarkdown(r);
    expect(md).toContain("### Merged from");
    // A cell's own "|" cannot split the Markdown row.
    expect(md).toContain("| /runs/b\\|x | host-b | 1/2:1 |");
  });

  it("lists merged k6 JSON files by path, and refuses a malformed merged_from", () => {
    const r = results({ merged_from: [{ file: "a.ndjson" }, { file: "b.ndjson" }] });
    expect(renderReport(r, { generatedAt: AT })).toContain("<td>a.ndjson</td>");
    expect(
      schemaProblems(RunSummarySchema, { ...r.summary, merged_from: [{ iterations: "many" }] }),
    ).not.toEqual([]);
  });
});
