// "Vendor requests by route": the clients' own count of every vendor attempt per route (summary.json
// vendor_routes), HTML for the page and Markdown for CI, with the one line that says what is counted.

import type { RunSummary, VendorRouteLine } from "../format.ts";
import { fmt, fmtPct, fmtUnit } from "../units.ts";
import { type Html, html } from "./escape.ts";

export const VENDOR_ROUTES_EXPLAINED =
  "Every vendor request the clients made, per route (the SDK call, or the command of sendExtendedRequest), " +
  "retries included; the rate is over the run's real duration, errors are attempts without a success answer " +
  "(unanswered ones may never have reached the vendor), latency runs to the end of the body. The " +
  "vendor_routes check compares these counts with the simulator's own /metrics.";

const cells = (l: VendorRouteLine) => [
  fmt(l.requests),
  `${fmt(l.rate_per_s)}/s`,
  l.errors === 0 ? "0" : `${fmt(l.errors)} (${fmtPct(l.errors / l.requests)})`,
  fmt(l.unanswered),
  fmtUnit(l.p50_ms, "ms"),
  fmtUnit(l.p95_ms, "ms"),
  fmtUnit(l.p99_ms, "ms"),
];

const HEAD = ["requests", "rate", "errors", "unanswered", "p50", "p95", "p99"];

/** The page's table, or a line saying the results carry none (older results, a client of its own). */
export function vendorRoutesTable(s: RunSummary): Html {
  const lines = s.vendor_routes ?? [];
  if (lines.length === 0) {
    return html`<h3>Vendor requests by route</h3><p class="muted">No vendor requests by route recorded in these results.</p>`;
  }
  return html`<h3>Vendor requests by route</h3>
<p class="muted">${VENDOR_ROUTES_EXPLAINED}</p>
<table class="data">
<thead><tr><th>Route</th>${HEAD.map((h) => html`<th class="num">${h}</th>`)}</tr></thead>
<tbody>${lines.map(
    (l) =>
      html`<tr><td><code>${l.route}</code></td>${cells(l).map((c) => html`<td class="num">${c}</td>`)}</tr>`,
  )}</tbody></table>`;
}

/** The Markdown section (empty when the results carry no routes); cells go through the caller's escapers. */
export function vendorRoutesMarkdown(
  s: RunSummary,
  esc: { text(s: string): string; code(s: string): string },
): string[] {
  const lines = s.vendor_routes ?? [];
  if (lines.length === 0) return [];
  const row = (c: string[]) => `| ${c.join(" | ")} |`;
  return [
    "## Vendor requests by route",
    "",
    esc.text(VENDOR_ROUTES_EXPLAINED),
    "",
    row(["route", ...HEAD]),
    row(["---", ...HEAD.map(() => "---:")]),
    ...lines.map((l) => row([esc.code(l.route), ...cells(l).map(esc.text)])),
    "",
  ];
}
