// The self-contained HTML report: one file with the chart library, its stylesheet, the page's stylesheet, the
// chart data and the renderer inlined, so it opens from disk or a CI artifact with no network. A
// Content-Security-Policy with the hashes of exactly these inline scripts and styles blocks anything else,
// including any script a results file might smuggle past the escaping.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { RESULTS_FORMAT } from "../format.ts";
import type { RunResults } from "../read-results.ts";
import { activityHtml, activityOf, withoutActivity } from "./activity.ts";
import { buildCharts } from "./charts.ts";
import { type Html, html, jsonForScript, trusted } from "./escape.ts";
import { documentHead } from "./head.ts";
import { mergedTable, segmentChip } from "./merged.ts";
import {
  billingTotals,
  capacitySection,
  chartFigures,
  checksTable,
  errorsTable,
  faultsTable,
  generatorBanner,
  latencyTable,
  overview,
  runDetails,
  thresholdsTable,
} from "./sections.ts";
import { serverApiTable } from "./server-api.ts";
import { targetBanner } from "./target.ts";
import { vendorRoutesTable } from "./vendor-routes.ts";

export interface PageOptions {
  /** When the report was generated (shown in the footer); injectable for reproducible output. */
  generatedAt?: Date;
}

interface Assets {
  uplotJs: string;
  uplotCss: string;
  pageCss: string;
  clientJs: string;
}

let cached: Assets | undefined;

/** uPlot from node_modules and the page's own CSS and renderer, read once. */
export function assets(): Assets {
  if (!cached) {
    const require = createRequire(import.meta.url);
    const own = (file: string) => readFileSync(new URL(file, import.meta.url), "utf8");
    cached = {
      uplotJs: readFileSync(require.resolve("uplot/dist/uPlot.iife.min.js"), "utf8"),
      uplotCss: readFileSync(require.resolve("uplot/dist/uPlot.min.css"), "utf8"),
      pageCss: own("./style.css"),
      clientJs: own("./client.js"),
    };
  }
  return cached;
}

const SECTIONS = [
  ["overview", "Overview"],
  ["thresholds", "Thresholds"],
  ["throughput", "Throughput"],
  ["latency", "Latency"],
  ["activity", "Phases"],
  ["distribution", "TTFA"],
  ["mixing", "Mixing"],
  ["bandwidth", "Bandwidth"],
  ["billing", "Billing"],
  ["capacity", "Capacity"],
  ["errors", "Errors"],
  ["faults", "Faults"],
] as const;

export function renderReport(r: RunResults, opts: PageOptions = {}): string {
  const a = assets();
  const data = buildCharts(r);
  const s = r.summary;
  const failed = s.thresholds.filter((t) => !t.ok).length;
  const thresholdStatus =
    s.thresholds.length === 0
      ? html`<span class="status neutral">no thresholds</span>`
      : failed === 0
        ? html`<span class="status pass">all ${s.thresholds.length} thresholds passed</span>`
        : html`<span class="status fail">${failed} of ${s.thresholds.length} thresholds failed</span>`;
  const failedChecks = (s.checks ?? []).filter((c) => !c.ok);
  const status = html`${thresholdStatus}${
    failedChecks.length > 0
      ? html`<span class="status fail">check failed: ${failedChecks.map((c) => c.name).join(", ")}</span>`
      : null
  }`;
  const style = `${a.uplotCss}\n${a.pageCss}`;
  const scripts = [a.uplotJs, a.clientJs].map(safeInlineScript);
  const section = (id: string, title: string, body: Html | (Html | null)[]) =>
    html`<section class="card" id="${id}"><h2>${title}</h2>${body}</section>`;
  const generated = (opts.generatedAt ?? new Date()).toISOString();

  const page = html`<!doctype html>
<html lang="en">
${documentHead({ title: `ktv report: ${s.scenario.name}`, generator: "ktv report", style, scripts })}
<body>
<header class="top">
  <div class="top-inner">
    <div>
      <div class="eyebrow">ktv-harness · run report</div>
      <h1>${s.scenario.name}</h1>
      <p class="desc">${s.scenario.description}</p>
    </div>
    <div class="top-status">${status}${s.generator_saturated ? html`<span class="status fail">load generator saturated</span>` : null}${s.target && s.target.outages.length > 0 ? html`<span class="status warn">target outage</span>` : null}${segmentChip(s) ? html`<span class="status neutral">${segmentChip(s)}</span>` : null}${s.interrupted ? html`<span class="status warn">interrupted: ${s.interrupt_reason ?? "unknown"}</span>` : null}</div>
  </div>
  <nav><div class="nav-inner">${SECTIONS.map(([id, label]) => html`<a href="#${id}">${label}</a>`)}</div></nav>
</header>
<main>
${generatorBanner(s)}
${targetBanner(s)}
${section("overview", "Overview", [overview(r), runDetails(r), mergedTable(s)])}
${section("thresholds", "Thresholds and checks", [thresholdsTable(s.thresholds), checksTable(s.checks)])}
${section("throughput", "Throughput and errors over time", chartFigures(data, "throughput"))}
${section("latency", "Latency by stage", [chartFigures(data, "latency"), html`<h3>Whole-run percentiles</h3>`, latencyTable(withoutActivity(s.metrics)), vendorRoutesTable(s), serverApiTable(s)])}
${section("activity", "Song-start phases, lyrics and player", activityHtml(activityOf(s)))}
${section("distribution", "Time to first audio: distribution", chartFigures(data, "distribution"))}
${section("mixing", "Mixing: lateness, deadline misses and cost", chartFigures(data, "mixing"))}
${section("bandwidth", "Download bandwidth", chartFigures(data, "bandwidth"))}
${section("billing", "Billing", [chartFigures(data, "billing"), billingTotals(r)])}
${section("capacity", "Capacity model", capacitySection(s.capacity, s.thresholds))}
${section("errors", "Errors by code", errorsTable(s))}
${section("faults", "Fault timeline", [chartFigures(data, "faults"), faultsTable(data.faults)])}
</main>
<footer>Generated by <code>ktv report</code> at ${generated} from <code>${r.dir}</code> (${RESULTS_FORMAT}).</footer>
<script type="application/json" id="ktv-data">${trusted(jsonForScript(data))}</script>
${scripts.map((js) => html`<script>${trusted(js)}</script>\n`)}
</body>
</html>
`;
  return page.value;
}

/** Our own scripts never contain "</script", but a library update could: split it so it cannot end the element. */
function safeInlineScript(js: string): string {
  return js.replace(/<\/(script)/gi, "<\\/$1");
}
