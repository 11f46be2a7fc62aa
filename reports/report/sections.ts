// The report's text sections: run details, overview tiles, thresholds, latency summary, capacity model,
// errors by code, billing totals and faults. Every value from the results files goes through `html`, which
// escapes it.

import type { CheckResult, MetricSummary, RunSummary, ThresholdResult } from "../format.ts";
import type { RunResults } from "../read-results.ts";
import { fmt, fmtBytes, fmtDuration, fmtPct, fmtTime, fmtUnit, unitOf } from "../units.ts";
import type { ChartSpec, ReportData } from "./charts.ts";
import { type Html, html } from "./escape.ts";
import type { FaultTrack } from "./faults.ts";
import { generatorSummary, generatorVerdict } from "./generator.ts";
import { segmentSummary } from "./merged.ts";
import { billingModeName, codeInfo, metricTitle, vendorName } from "./names.ts";
import { targetSummary } from "./target.ts";

export function runDetails(r: RunResults): Html {
  const s = r.summary;
  const env = r.environment;
  const rows: [string, Html | string][] = [
    ["Scenario", s.scenario.name],
    ["Seed", String(env.seed)],
    ["Duration", `${fmtDuration(s.duration_s)}`],
    ["Started", fmtTime(s.started_at)],
    ["Ended", fmtTime(s.ended_at)],
    [
      "Interrupted",
      s.interrupted
        ? html`<span class="badge warn">yes</span> ${s.interrupt_reason ?? "no reason recorded"}`
        : "no (ran to completion)",
    ],
    ["Target", env.target],
    ...(targetSummary(s) ? [["Target availability", targetSummary(s)!] as [string, string]] : []),
    ...(generatorSummary(s) ? [["Load generator", generatorSummary(s)!] as [string, string]] : []),
    ...(segmentSummary(s) ? [["Execution segment", segmentSummary(s)!] as [string, string]] : []),
    ["Git commit", html`<code>${env.git_commit ?? "not in a git checkout"}</code>`],
    ["ktv-harness", env.ktv_version],
    ["Node.js", env.node],
    ["Platform", `${env.platform} / ${env.arch}`],
    ["CPU", `${env.cpus.count} × ${env.cpus.model}`],
    ["Memory", fmtBytes(env.memory_bytes)],
    ["Host", env.hostname],
  ];
  return html`<dl class="details">${rows.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>`;
}

export function overview(r: RunResults): Html {
  const s = r.summary;
  const c = s.counters;
  const errors = sumValues(c.errors_by_code);
  const rate = (n: number) => (s.duration_s > 0 ? n / s.duration_s : 0);
  const ttfa = s.metrics.ttfa_ms;
  const frames = typeof c.mix_frames === "number" ? c.mix_frames : null;
  const late = typeof c.mix_late_frames === "number" ? c.mix_late_frames : null;
  const tiles: [string, string, string][] = [
    ["Iterations", fmt(c.iterations), `${fmt(rate(c.iterations))} per second`],
    ["Songs started", fmt(c.songs_started), `${fmt(c.dropped_iterations)} iterations dropped`],
    // Vendor error answers include the ones a careful client expects and handles (1017050 before falling back
    // to requestResource, 1017075 for a song without a pitch line); failed iterations are the user-visible part.
    [
      "Vendor errors",
      fmt(errors),
      typeof c.failed_iterations === "number"
        ? `${fmt(c.failed_iterations)} iterations failed (${fmtPct(c.iterations > 0 ? c.failed_iterations / c.iterations : null)})`
        : `${fmtPct(c.iterations > 0 ? errors / c.iterations : null)} per iteration`,
    ],
    [
      "TTFA p95",
      fmtUnit(ttfa?.p95, "ms"),
      ttfa?.corrected
        ? `${fmtUnit(ttfa.corrected.p95, "ms")} from intended start`
        : `p99 ${fmtUnit(ttfa?.p99, "ms")}`,
    ],
    ["Billable requests", fmt(c.billable_requests), `${fmt(s.capacity.billable_per_hour.total)} per hour`],
    [
      "Downloaded",
      fmtBytes(c.bytes_downloaded),
      `${fmt((c.bytes_downloaded * 8) / Math.max(s.duration_s, 1e-9) / 1e6)} Mb/s average`,
    ],
    [
      "Mix deadline misses",
      late === null ? "–" : fmt(late),
      frames === null
        ? "not recorded"
        : `of ${fmt(frames)} frames (${fmtPct(frames > 0 ? (late ?? 0) / frames : null)})`,
    ],
  ];
  return html`<div class="tiles">${tiles.map(
    ([label, value, sub]) =>
      html`<div class="tile"><div class="tile-label">${label}</div><div class="tile-value">${value}</div><div class="tile-sub">${sub}</div></div>`,
  )}</div>`;
}

export function thresholdsTable(thresholds: ThresholdResult[]): Html {
  if (thresholds.length === 0) return html`<p class="muted">This scenario declares no thresholds.</p>`;
  return html`<table class="data">
<thead><tr><th>Result</th><th>Metric</th><th>Threshold</th><th class="num">Observed</th><th>Abort on fail</th><th class="num">First breach</th></tr></thead>
<tbody>${thresholds.map(
    (t) =>
      html`<tr class="${t.ok ? "" : "row-fail"}"><td>${badge(t.ok)}</td><td><code>${t.metric}</code></td><td><code>${t.expression}</code></td><td class="num">${observed(t)}</td><td>${t.abortOnFail ? "yes" : "no"}</td><td class="num">${t.first_breach_s === undefined || t.first_breach_s === null ? "–" : `${fmt(t.first_breach_s)} s`}</td></tr>`,
  )}</tbody></table>`;
}

/** The run's own checks (billing exact ...): what each compared and found. Absent in older results. */
export function checksTable(checks: CheckResult[] | undefined): Html | null {
  if (!checks || checks.length === 0) return null;
  return html`<h3>Checks</h3>
<table class="data">
<thead><tr><th>Result</th><th>Check</th><th>What it found</th></tr></thead>
<tbody>${checks.map(
    (c) =>
      html`<tr class="${c.ok ? "" : "row-fail"}"><td>${badge(c.ok)}</td><td><code>${c.name}</code></td><td>${c.detail}</td></tr>`,
  )}</tbody></table>`;
}

/** The observed value in the threshold's terms: a rate as a percentage, a percentile in the metric's unit. */
export function observed(t: ThresholdResult): string {
  if (t.observed === null) return "no samples";
  if (/^\s*rate\s*[<>]/.test(t.expression)) return fmtPct(t.observed);
  return fmtUnit(t.observed, unitOf(t.metric.replace(/\{.*\}$/, "")));
}

export function latencyTable(metrics: Record<string, MetricSummary>): Html {
  const names = Object.keys(metrics);
  if (names.length === 0) return html`<p class="muted">No latency metrics recorded.</p>`;
  const cols = ["count", "min", "mean", "p50", "p90", "p95", "p99", "p999", "max"] as const;
  const row = (label: Html, m: Omit<MetricSummary, "corrected">, unit: string, cls = "") =>
    html`<tr class="${cls}"><td>${label}</td>${cols.map(
      (k) => html`<td class="num">${k === "count" ? fmt(m[k]) : fmtUnit(m[k], unit)}</td>`,
    )}</tr>`;
  return html`<table class="data">
<thead><tr><th>Metric</th>${cols.map((k) => html`<th class="num">${k === "p999" ? "p99.9" : k}</th>`)}</tr></thead>
<tbody>${names.map((name) => {
    const m = metrics[name]!;
    const unit = unitOf(name);
    return [
      row(html`<code>${name}</code> <span class="muted">${metricTitle(name)}</span>`, m, unit),
      m.corrected
        ? row(html`<span class="indent">↳ from intended start (corrected)</span>`, m.corrected, unit, "sub")
        : null,
    ];
  })}</tbody></table>`;
}

/** The banner at the very top of the page when the load generator was saturated (nothing otherwise). */
export function generatorBanner(s: RunSummary): Html | null {
  const v = generatorVerdict(s);
  if (!v) return null;
  return html`<section class="banner fail" id="generator-saturated" role="alert">
<h2>Load generator saturated: these results may measure the harness</h2>
<p>${v.headline}</p>
<ul>${v.reasons.map((r) => html`<li>${r}</li>`)}</ul>
${v.knee ? html`<p><strong>Capacity:</strong> ${v.knee}</p>` : null}
${v.late ? html`<p>${v.late}</p>` : null}
</section>`;
}

/**
 * What the run says about the knee. Only a windowed threshold (`over W`) or an abortOnFail stop has a time of
 * first breach; a whole-run threshold that failed says the run broke but not at which load, and must not read as
 * "no threshold broke" under a red "N thresholds failed" badge.
 */
export function kneeText(
  knee: RunSummary["capacity"]["knee"],
  thresholds: ThresholdResult[],
): { text: string; located: boolean } | null {
  if (knee === undefined) return null;
  if (knee !== null) {
    return {
      located: true,
      text: `${knee.metric} ${knee.expression} first broke at ${fmt(knee.vus)} VUs / ${fmt(knee.rooms)} rooms, ${fmt(knee.at_s)} s into the run.`,
    };
  }
  const failed = thresholds.filter((t) => !t.ok);
  if (failed.length === 0)
    return { located: false, text: "No threshold broke: the knee is beyond the load this run reached." };
  const names = failed.map((t) => `${t.metric} ${t.expression}`).join(", ");
  return {
    located: false,
    text: `Knee not located: ${failed.length} of ${thresholds.length} thresholds failed over the whole run (${names}), but none of them has a time of first breach. Only a windowed threshold ("p(95)<800 over 30s") or an abortOnFail stop says at which load it broke.`,
  };
}

export function capacitySection(cap: RunSummary["capacity"], thresholds: ThresholdResult[] = []): Html {
  const kv = (rows: [string, string][]) =>
    html`<table class="data kv"><tbody>${rows.map(([k, v]) => html`<tr><th>${k}</th><td class="num">${v}</td></tr>`)}</tbody></table>`;
  const byMode = Object.entries(cap.billable_per_hour.by_mode).map(
    ([k, v]) => [`billing mode ${billingModeName(k)}`, fmt(v)] as [string, string],
  );
  const byVendor = Object.entries(cap.billable_per_hour.by_vendor).map(
    ([k, v]) => [`vendor ${vendorName(k)}`, fmt(v)] as [string, string],
  );
  const limit = cap.generator_limit;
  const kt = kneeText(cap.knee, thresholds);
  const knee =
    cap.knee_limited_by === "generator"
      ? html`<p><span class="badge fail">limited by the generator</span> No knee: the load generator saturated${limit ? ` at ${fmt(limit.vus)} VUs / ${fmt(limit.rooms)} rooms, ${fmt(limit.at_s)} s into the run` : ""}, so no threshold breach from then on can be called the target's.${cap.withheld_knee ? ` (${cap.withheld_knee.metric} ${cap.withheld_knee.expression} broke at ${fmt(cap.withheld_knee.vus)} VUs, ${fmt(cap.withheld_knee.at_s)} s.)` : ""}</p>`
      : cap.knee === undefined || kt === null
        ? html`<p class="muted">Not a capacity scenario: no knee searched.</p>`
        : cap.knee === null
          ? html`<p>${kt.text}</p>`
          : html`<p><strong>Knee:</strong> <code>${cap.knee.metric}</code> <code>${cap.knee.expression}</code> first broke at ${fmt(cap.knee.vus)} VUs / ${fmt(cap.knee.rooms)} rooms, ${fmt(cap.knee.at_s)} s into the run.</p>`;
  return html`<div class="cols-3">
<div><h3>Billable requests per hour</h3>${kv([["total", fmt(cap.billable_per_hour.total)], ...byMode, ...byVendor])}</div>
<div><h3>Bandwidth</h3>${kv([
    ["CDN egress", fmtUnit(cap.cdn_egress_mbps, "Mb/s")],
    ["media relay", fmtUnit(cap.media_relay_mbps, "Mb/s")],
  ])}</div>
<div><h3>Per user and per room</h3><table class="data"><thead><tr><th></th><th class="num">billable / h</th><th class="num">CDN</th><th class="num">media</th></tr></thead><tbody>
${(["per_user", "per_room"] as const).map(
  (k) =>
    html`<tr><th>${k === "per_user" ? "per user" : "per room"}</th><td class="num">${fmt(cap[k].billable_per_hour)}</td><td class="num">${fmtUnit(cap[k].cdn_mbps, "Mb/s")}</td><td class="num">${fmtUnit(cap[k].media_mbps, "Mb/s")}</td></tr>`,
)}</tbody></table></div>
</div>
${knee}
<h3>Formulas</h3>
<pre class="formulas">${cap.formulas.join("\n")}</pre>`;
}

export function errorsTable(s: RunSummary): Html {
  const entries = Object.entries(s.counters.errors_by_code).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return html`<p>No errors in this run.</p>`;
  const total = sumValues(s.counters.errors_by_code);
  const byCode = s.counters.failed_iterations_by_code;
  const failedBy = typeof byCode === "object" ? byCode : null;
  const handled = failedBy ? entries.filter(([code]) => !(failedBy[code] ?? 0)).length : 0;
  const note = failedBy
    ? html`<p>Every error answer a client met, handled or not. ${
        handled === entries.length
          ? "None of these failed an iteration: the client handled each (e.g. no share in the room, so it requested the song; a song without a pitch line, sung without one)."
          : `${handled} of ${entries.length} codes failed no iteration (the client handled them); the last column counts the iterations that failed with each code.`
      }</p>`
    : null;
  return html`${note}<table class="data">
<thead><tr><th>Code</th><th>Name</th><th>Meaning</th><th class="num">Count</th><th class="num">Share of errors</th><th class="num">Per iteration</th>${failedBy ? html`<th class="num">Iterations failed</th>` : null}</tr></thead>
<tbody>${entries.map(([code, n]) => {
    const info = codeInfo(code);
    const failed = failedBy ? (failedBy[code] ?? 0) : null;
    return html`<tr class="${failed ? "row-fail" : ""}"><td><code>${code}</code></td><td>${info?.name ?? "–"}</td><td>${info?.message ?? "not a vendor code"}</td><td class="num">${fmt(n)}</td><td class="num">${fmtPct(n / total)}</td><td class="num">${fmtPct(s.counters.iterations > 0 ? n / s.counters.iterations : null)}</td>${failed === null ? null : html`<td class="num">${failed === 0 ? "0 (handled)" : fmt(failed)}</td>`}</tr>`;
  })}</tbody></table>`;
}

export function billingTotals(r: RunResults): Html {
  const t = r.ledger.totals;
  const billable = r.summary.counters.billable_requests;
  const agrees = t.billable === billable;
  const list = (o: Record<string, number>, name: (k: string) => string) =>
    Object.entries(o).map(
      ([k, v]) =>
        html`<tr><th>${name(k)}</th><td class="num">${fmt(v)}</td><td class="num">${fmtPct(t.billable > 0 ? v / t.billable : null)}</td></tr>`,
    );
  return html`<p>${
    agrees
      ? html`<span class="badge pass">consistent</span> The run counted ${fmt(billable)} billable requests, as many as the ledger has rows.`
      : html`<span class="badge fail">mismatch</span> The run counted ${fmt(billable)} billable requests but the ledger has ${fmt(t.billable)}.`
  }</p>
<div class="cols-2">
<table class="data kv"><thead><tr><th>Billing mode</th><th class="num">Rows</th><th class="num">Share</th></tr></thead><tbody>${list(t.by_mode, billingModeName)}</tbody></table>
<table class="data kv"><thead><tr><th>Vendor</th><th class="num">Rows</th><th class="num">Share</th></tr></thead><tbody>${list(t.by_vendor, vendorName)}</tbody></table>
</div>`;
}

export function faultsTable(tracks: FaultTrack[]): Html {
  if (tracks.length === 0) return html`<p>No faults were injected during this run.</p>`;
  return html`<table class="data">
<thead><tr><th>Fault</th><th>Kind</th><th class="num">Requests hit</th><th class="num">First</th><th class="num">Last</th><th class="num">Spans</th><th>Effect</th></tr></thead>
<tbody>${tracks.map(
    (t) =>
      html`<tr><td><span class="swatch" data-color="${t.color}"></span><code>${t.fault_id}</code></td><td>${t.kind}</td><td class="num">${fmt(t.events)}</td><td class="num">${fmt(t.first_s)} s</td><td class="num">${fmt(t.last_s)} s</td><td class="num">${t.spans.length}</td><td>${t.effect}</td></tr>`,
  )}</tbody></table>`;
}

export function chartFigures(data: ReportData, section: string): Html {
  return html`<div class="charts">${data.charts.filter((c) => c.section === section).map(chartFigure)}</div>`;
}

function chartFigure(c: ChartSpec): Html {
  return html`<figure class="chart" id="fig-${c.id}">
<figcaption><h3>${c.title}</h3>${c.note ? html`<p class="note">${c.note}</p>` : null}</figcaption>
<div class="chart-box${c.empty ? " empty" : ""}" id="chart-${c.id}" data-color="${c.series[0]?.color ?? ""}">${c.empty ? html`<p>${c.empty}</p>` : null}</div>
</figure>`;
}

function badge(ok: boolean): Html {
  return ok ? html`<span class="badge pass">pass</span>` : html`<span class="badge fail">fail</span>`;
}

function sumValues(o: Record<string, number>): number {
  return Object.values(o).reduce((a, b) => a + b, 0);
}
