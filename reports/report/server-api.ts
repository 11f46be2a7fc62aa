// "Server API by action": what backend VUs asked of the vendor's server REST API (summary.json server_api),
// HTML for the page and Markdown for CI. A partner sizing a backend reads per-action rate and latency here;
// the simulator's per-app-and-action QPS cap answers 429-style codes the retries column shows.

import type { RunSummary, ServerApiActionLine } from "../format.ts";
import { fmt, fmtUnit } from "../units.ts";
import { type Html, html } from "./escape.ts";

export const SERVER_API_EXPLAINED =
  "Every call backend VUs made to the vendor's server REST API (GET /?Action=...), per action; the rate is over " +
  "the run's real duration, retries are repeated attempts after a throttled or failed answer, and latency runs " +
  "from the first attempt to the last answer, backoffs included.";

const HEAD = ["calls", "rate", "retries", "p50", "p95", "p99", "max"];

const cells = (l: ServerApiActionLine) => [
  fmt(l.calls),
  `${fmt(l.per_s)}/s`,
  fmt(l.retries),
  fmtUnit(l.p50, "ms"),
  fmtUnit(l.p95, "ms"),
  fmtUnit(l.p99, "ms"),
  fmtUnit(l.max, "ms"),
];

/** Actions in name order, so two runs' tables line up. */
function actions(s: RunSummary): [string, ServerApiActionLine][] {
  return Object.entries(s.server_api ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The page's table; nothing when the run made no server API call (most scenarios). */
export function serverApiTable(s: RunSummary): Html {
  const rows = actions(s);
  if (rows.length === 0) return html``;
  return html`<h3>Server API by action</h3>
<p class="muted">${SERVER_API_EXPLAINED}</p>
<table class="data">
<thead><tr><th>Action</th>${HEAD.map((h) => html`<th class="num">${h}</th>`)}</tr></thead>
<tbody>${rows.map(
    ([a, l]) =>
      html`<tr><td><code>${a}</code></td>${cells(l).map((c) => html`<td class="num">${c}</td>`)}</tr>`,
  )}</tbody></table>`;
}

/** The Markdown section (empty when there is none); cells go through the caller's escapers. */
export function serverApiMarkdown(
  s: RunSummary,
  esc: { text(s: string): string; code(s: string): string },
): string[] {
  const rows = actions(s);
  if (rows.length === 0) return [];
  const row = (c: string[]) => `| ${c.join(" | ")} |`;
  return [
    "## Server API by action",
    "",
    esc.text(SERVER_API_EXPLAINED),
    "",
    row(["action", ...HEAD]),
    row(["---", ...HEAD.map(() => "---:")]),
    ...rows.map(([a, l]) => row([esc.code(a), ...cells(l).map(esc.text)])),
    "",
  ];
}
