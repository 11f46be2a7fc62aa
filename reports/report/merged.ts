// What the report says about where its numbers came from when a run was one execution segment of a bigger
// test (`ktv run --execution-segment`) or was merged from several instances (`ktv merge`): a segment's rates
// and counts are only its share of the load, and a merged verdict can fail where every instance alone passed,
// so a reader must see both before reading a figure.

import type { MergedInstance, RunSummary } from "../format.ts";
import { fmt, fmtTime } from "../units.ts";
import { type Html, html } from "./escape.ts";

const WHOLE = "0:1";

/** One line for the run details (null for a whole, unmerged run or results that predate segments). */
export function segmentSummary(s: RunSummary): string | null {
  const seq = s.execution_segment_sequence;
  const ofSeq = seq && seq !== "0,1" ? ` of the sequence ${seq}` : "";
  if (s.merged_from && s.merged_from.length > 0) {
    const n = s.merged_from.length;
    const cover = s.execution_segment ? `, together segment ${s.execution_segment}${ofSeq}` : "";
    return `merged by ktv merge from ${fmt(n)} instance${n === 1 ? "" : "s"}${cover}`;
  }
  const seg = s.execution_segment;
  if (!seg || seg === WHOLE) return null;
  return `segment ${seg}${ofSeq}: this instance ran only its share of the test's load; merge every segment's results with ktv merge for the whole test`;
}

/** A short status chip for the page's top bar (null when there is nothing to say). */
export function segmentChip(s: RunSummary): string | null {
  if (s.merged_from && s.merged_from.length > 0) return `merged from ${fmt(s.merged_from.length)}`;
  const seg = s.execution_segment;
  return seg && seg !== WHOLE ? `segment ${seg}` : null;
}

function name(i: MergedInstance): string {
  return i.dir ?? i.file ?? "(unnamed)";
}

function verdict(i: MergedInstance): string {
  if (i.thresholds_ok === undefined) return "";
  return i.thresholds_ok ? "passed" : "failed";
}

const HEAD = ["Instance", "Host", "Segment", "Started", "Ended", "Iterations", "Own thresholds"] as const;

function cells(i: MergedInstance): string[] {
  return [
    name(i),
    i.hostname ?? "",
    i.execution_segment ?? "",
    i.started_at ? fmtTime(i.started_at) : "",
    i.ended_at ? fmtTime(i.ended_at) : "",
    i.iterations === undefined ? "" : fmt(i.iterations),
    verdict(i),
  ];
}

/** The instances a merged result came from, as a table (null for a result that was not merged). */
export function mergedTable(s: RunSummary): Html | null {
  const from = s.merged_from;
  if (!from || from.length === 0) return null;
  return html`<h3>Merged from</h3>
<p class="muted">Counters are the instances' sums, percentiles come from their merged histograms, and the thresholds
above were judged on the merged data: each instance's own verdict is in the last column.</p>
<table class="data"><thead><tr>${HEAD.map((h) => html`<th>${h}</th>`)}</tr></thead>
<tbody>${from.map((i) => html`<tr>${cells(i).map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody></table>`;
}

/** The same in Markdown: a line under the run table and the instances' table. */
export function mergedMarkdown(s: RunSummary, text: (s: string) => string): string[] {
  const from = s.merged_from;
  if (!from || from.length === 0) return [];
  const row = (c: readonly string[]) => `| ${c.map(text).join(" | ")} |`;
  return [
    "### Merged from",
    "",
    row(HEAD),
    `| ${HEAD.map(() => "---").join(" | ")} |`,
    ...from.map((i) => row(cells(i))),
    "",
  ];
}
