// `ktv report --bench reports/bench/latest.json`: one self-contained HTML page of a bench run (the file format
// is bench-format.ts). Per case, a row drawn as inline SVG on its own log axis: the ratio to the reference
// (bar, whisker over the per-round min-max) against the target and parity (ratio 1); for a case whose target is
// on our own value (e.g. <= 10 µs per frame) the bar is that value against the target in its unit, with the
// reference's value marked. No script at all: the CSP allows only the page's own style (by hash), and every text
// from the file is escaped.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { type BenchCaseResult, type BenchResults, readBenchResults } from "../bench-format.ts";
import { type Html, html } from "./escape.ts";
import { documentHead } from "./head.ts";

const W = 560;
const H = 46;
const PAD = 14;

let css: string | undefined;
function pageCss(): string {
  css ??= `${readFileSync(new URL("./style.css", import.meta.url), "utf8")}
.bench-row svg { display: block; max-width: 100%; height: auto; }
.bench-table td.chart { min-width: ${W}px; }
.bench-note { color: var(--muted); font-size: 12.5px; }
`;
  return css;
}

const num = (x: number) =>
  Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2);

export interface ChartGeometry {
  /** Values drawn on this row's axis. */
  bar: number;
  lo: number;
  hi: number;
  target: number;
  /** A second marker: parity (1) for a ratio, the reference's value for a value target. */
  mark: number;
  markLabel: string;
  unit: string;
  pass: boolean;
}

/** What a finished case's row draws; null for a skipped or failed-to-run case. */
export function chartGeometry(r: BenchCaseResult): ChartGeometry | null {
  if (r.ratio === null || r.ours === null || r.reference === null) return null;
  if (r.target_of === "ratio") {
    return {
      bar: r.ratio,
      lo: r.min ?? r.ratio,
      hi: r.max ?? r.ratio,
      target: r.target,
      mark: 1,
      markLabel: "parity",
      unit: "x",
      pass: r.pass === true,
    };
  }
  return {
    bar: r.ours,
    lo: r.ours_min ?? r.ours,
    hi: r.ours_max ?? r.ours,
    target: r.target,
    mark: r.reference,
    markLabel: r.reference_name,
    unit: ` ${r.unit}`,
    pass: r.pass === true,
  };
}

function svgRow(g: ChartGeometry, label: string): Html {
  const vals = [g.bar, g.lo, g.hi, g.target, g.mark].filter((v) => v > 0);
  const lo = Math.log10(Math.min(...vals) / 2);
  const hi = Math.log10(Math.max(...vals) * 2);
  const x = (v: number) => PAD + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * (W - 2 * PAD);
  const colour = g.pass ? "#1e7b34" : "#b3261e";
  const y0 = 12;
  const bh = 14;
  return html`<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${label}">
<line x1="${PAD}" y1="${y0 + bh + 4}" x2="${W - PAD}" y2="${y0 + bh + 4}" stroke="#c9ced6"/>
<rect x="${PAD}" y="${y0}" width="${Math.max(1, x(g.bar) - PAD).toFixed(1)}" height="${bh}" fill="${colour}" fill-opacity="0.75"/>
<line x1="${x(g.lo).toFixed(1)}" y1="${y0 + bh / 2}" x2="${x(g.hi).toFixed(1)}" y2="${y0 + bh / 2}" stroke="#1d2733" stroke-width="1.5"/>
<line x1="${x(g.target).toFixed(1)}" y1="${y0 - 8}" x2="${x(g.target).toFixed(1)}" y2="${y0 + bh + 6}" stroke="#1d2733" stroke-width="2" stroke-dasharray="4 2"/>
<text x="${x(g.target).toFixed(1)}" y="${y0 - 2}" font-size="10" text-anchor="middle" dx="0" dy="-1" fill="#1d2733">target ${num(g.target)}${g.unit}</text>
<line x1="${x(g.mark).toFixed(1)}" y1="${y0}" x2="${x(g.mark).toFixed(1)}" y2="${y0 + bh + 6}" stroke="#4e79a7" stroke-width="1.5"/>
<text x="${x(g.mark).toFixed(1)}" y="${H - 2}" font-size="10" text-anchor="middle" fill="#4e79a7">${g.markLabel} ${num(g.mark)}${g.unit}</text>
</svg>`;
}

function caseRow(r: BenchCaseResult): Html {
  const g = chartGeometry(r);
  const status =
    r.status === "pass"
      ? html`<span class="status pass">pass</span>`
      : r.status === "fail"
        ? html`<span class="status fail">fail</span>`
        : r.status === "skipped"
          ? html`<span class="status neutral">skipped</span>`
          : html`<span class="status fail">error</span>`;
  const target =
    r.target_of === "ratio"
      ? `ratio >= ${r.target}`
      : `${r.higher_is_better ? ">=" : "<="} ${r.target} ${r.unit}`;
  return html`<tr class="bench-row">
<td><code>${r.name}</code><div class="bench-note">${r.description}</div></td>
<td class="num">${r.ours === null ? "-" : num(r.ours)} ${r.unit}</td>
<td class="num">${r.reference === null ? "-" : num(r.reference)} ${r.unit}<div class="bench-note">${r.reference_name}</div></td>
<td class="num">${r.ratio === null ? "-" : `${num(r.ratio)}x`}${r.min === null || r.max === null ? null : html`<div class="bench-note">${num(r.min)}-${num(r.max)}</div>`}</td>
<td>${target}</td>
<td>${status}${r.reason ? html`<div class="bench-note">${r.reason}</div>` : null}</td>
<td class="chart">${g ? svgRow(g, `${r.name}: ${num(g.bar)}${g.unit} against target ${num(g.target)}${g.unit}`) : html`<span class="bench-note">nothing measured</span>`}</td>
</tr>`;
}

export function renderBenchPage(res: BenchResults, opts: { source: string; generatedAt?: Date }): string {
  const style = pageCss();
  const m = res.machine;
  const counts = { pass: 0, fail: 0, skipped: 0, error: 0 };
  for (const c of res.cases) counts[c.status]++;
  const peers = Object.entries(res.peers);
  const generated = (opts.generatedAt ?? new Date()).toISOString();
  const page = html`<!doctype html>
<html lang="en">
${documentHead({ title: `ktv bench: ${res.mode} run of ${res.generated_at}`, generator: "ktv report --bench", style })}
<body>
<header class="top">
  <div class="top-inner">
    <div>
      <div class="eyebrow">ktv-harness · benchmarks</div>
      <h1>npm run bench${res.mode === "quick" ? " -- --quick" : ""}</h1>
      <p class="desc">${res.generated_at}: ${m.cores} x ${m.cpu}, ${m.platform}, Node ${m.node}, ${m.memory_gib} GiB; load average ${m.loadavg_start.join(" ")} at the start, ${m.loadavg_end.join(" ")} at the end; ${res.duration_s} s</p>
    </div>
    <div class="top-status">${counts.pass ? html`<span class="status pass">${counts.pass} pass</span>` : null}${counts.fail ? html`<span class="status fail">${counts.fail} fail</span>` : null}${counts.error ? html`<span class="status fail">${counts.error} error</span>` : null}${counts.skipped ? html`<span class="status neutral">${counts.skipped} skipped</span>` : null}</div>
  </div>
</header>
<main>
<section class="card" id="cases"><h2>Ratio against target, per case</h2>
<p class="bench-note">Each case raced its reference in the same run, interleaved, over its rounds; values are medians. The ratio is oriented so that higher is better (ours / reference for a rate, reference / ours for a cost); the whisker spans the per-round ratios. Axes are logarithmic, one per row. Where the target is on our own value, the row draws that value, the target and the reference's value in the case's unit.</p>
<table class="bench-table">
<thead><tr><th>case</th><th>ours</th><th>reference</th><th>ratio</th><th>target</th><th>result</th><th>chart</th></tr></thead>
<tbody>${res.cases.map(caseRow)}</tbody>
</table>
<p class="bench-note">Peers: ${peers.length ? peers.map(([k, v]) => `${k}: ${v ?? "not installed"}`).join("; ") : "none"}</p>
</section>
</main>
<footer>Generated by <code>ktv report --bench</code> at ${generated} from <code>${opts.source}</code> (${res.format}).</footer>
</body>
</html>
`;
  return page.value;
}

/** `ktv report --bench FILE [--out HTML]`: reads the results file, writes the page (default beside the file). */
export function writeBenchReport(file: string, opts: { out?: string; generatedAt?: Date } = {}): string {
  const res = readBenchResults(file);
  const out = resolve(opts.out ?? join(dirname(file), "bench.html"));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, renderBenchPage(res, { source: file, generatedAt: opts.generatedAt }));
  return out;
}
