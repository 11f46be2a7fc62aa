// The Markdown summary for CI (a job summary, a PR comment): thresholds, key percentiles, capacity and errors,
// with every value from the results files escaped so it cannot inject markup into the rendered page.

import type { RunResults } from "../read-results.ts";
import { fmt, fmtBytes, fmtDuration, fmtPct, fmtUnit, unitOf } from "../units.ts";
import { activityMarkdown, activityOf, withoutActivity } from "./activity.ts";
import { generatorSummary, generatorVerdict } from "./generator.ts";
import { mergedMarkdown, segmentSummary } from "./merged.ts";
import { billingModeName, codeInfo, metricTitle, vendorName } from "./names.ts";
import { kneeText, observed } from "./sections.ts";
import { serverApiMarkdown } from "./server-api.ts";
import { targetMarkdown, targetSummary } from "./target.ts";
import { vendorRoutesMarkdown } from "./vendor-routes.ts";

/** Text safe in a Markdown table cell: no emphasis, links, code, HTML or cell breaks. */
export function mdText(s: string): string {
  return s
    .replace(/[\r\n]+/g, " ")
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/^#/, "\\#")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;");
}

/** A code span for identifiers and expressions (`p(95)<800`): literal inside, only the cell separator escaped. */
export function mdCode(s: string): string {
  return `\`${s
    .replace(/[\r\n]+/g, " ")
    .replaceAll("`", "'")
    .replaceAll("|", "\\|")}\``;
}

const row = (cells: string[]) => `| ${cells.join(" | ")} |`;
const table = (head: string[], align: ("l" | "r")[], rows: string[][]) =>
  [row(head), row(align.map((a) => (a === "r" ? "---:" : "---"))), ...rows.map(row)].join("\n");

export function renderMarkdown(r: RunResults): string {
  const s = r.summary;
  const env = r.environment;
  const c = s.counters;
  const out: string[] = [];
  const failed = s.thresholds.filter((t) => !t.ok).length;
  out.push(`# ktv report: ${mdText(s.scenario.name)}`, "");
  const gen = generatorVerdict(s);
  if (gen) {
    out.push(
      `> **⚠️ Load generator saturated.** ${mdText(gen.headline)}`,
      ">",
      ...gen.reasons.map((r) => `> - ${mdText(r)}`),
      ...(gen.knee ? [">", `> **Capacity:** ${mdText(gen.knee)}`] : []),
      ...(gen.late ? [">", `> ${mdText(gen.late)}`] : []),
      "",
    );
  }
  out.push(...targetMarkdown(s, mdText));
  if (s.scenario.description) out.push(mdText(s.scenario.description), "");
  out.push(
    table(
      ["run", ""],
      ["l", "l"],
      [
        ["seed", String(env.seed)],
        ["duration", fmtDuration(s.duration_s)],
        ["started", mdCode(s.started_at)],
        ["git commit", env.git_commit ? mdCode(env.git_commit) : "none"],
        [
          "environment",
          mdText(`node ${env.node}, ${env.platform}/${env.arch}, ${env.cpus.count} × ${env.cpus.model}`),
        ],
        ["target", mdText(env.target)],
        ...(targetSummary(s) ? [["target availability", mdText(targetSummary(s)!)]] : []),
        ...(generatorSummary(s) ? [["load generator", mdText(generatorSummary(s)!)]] : []),
        ...(segmentSummary(s) ? [["execution segment", mdText(segmentSummary(s)!)]] : []),
        [
          "interrupted",
          s.interrupted ? `**yes**: ${mdText(s.interrupt_reason ?? "no reason recorded")}` : "no",
        ],
      ],
    ),
    "",
    ...mergedMarkdown(s, mdText),
  );

  out.push(
    s.thresholds.length === 0
      ? "## Thresholds\n\nNo thresholds declared."
      : `## Thresholds: ${failed === 0 ? `all ${s.thresholds.length} passed` : `**${failed} of ${s.thresholds.length} failed**`}`,
    "",
  );
  if (s.thresholds.length > 0) {
    out.push(
      table(
        ["result", "metric", "threshold", "observed"],
        ["l", "l", "l", "r"],
        s.thresholds.map((t) => [
          t.ok ? "✅ pass" : "❌ **fail**",
          mdCode(t.metric),
          mdCode(t.expression),
          mdText(observed(t)),
        ]),
      ),
      "",
    );
  }

  const checks = s.checks ?? [];
  if (checks.length > 0) {
    const bad = checks.filter((ch) => !ch.ok).length;
    out.push(
      `## Checks: ${bad === 0 ? `all ${checks.length} passed` : `**${bad} of ${checks.length} failed**`}`,
      "",
      table(
        ["result", "check", "what it found"],
        ["l", "l", "l"],
        checks.map((ch) => [ch.ok ? "✅ pass" : "❌ **fail**", mdCode(ch.name), mdText(ch.detail)]),
      ),
      "",
    );
  }

  out.push("## Key percentiles", "");
  const metrics = withoutActivity(s.metrics);
  const names = Object.keys(metrics);
  out.push(
    names.length === 0
      ? "No latency metrics recorded."
      : table(
          ["metric", "count", "p50", "p95", "p99", "p99.9", "max"],
          ["l", "r", "r", "r", "r", "r", "r"],
          names.flatMap((name) => {
            const m = metrics[name]!;
            const u = unitOf(name);
            const cells = (x: typeof m, label: string) => [
              label,
              fmt(x.count),
              ...[x.p50, x.p95, x.p99, x.p999, x.max].map((v) => fmtUnit(v, u)),
            ];
            const rows = [cells(m, `${mdCode(name)} ${mdText(metricTitle(name))}`)];
            if (m.corrected) rows.push(cells(m.corrected, `${mdCode(name)} from intended start`));
            return rows;
          }),
        ),
    "",
  );

  out.push(...vendorRoutesMarkdown(s, { text: mdText, code: mdCode }));
  out.push(...serverApiMarkdown(s, { text: mdText, code: mdCode }));
  out.push(...activityMarkdown(activityOf(s), { text: mdText, code: mdCode }));

  const cap = s.capacity;
  out.push("## Capacity", "");
  out.push(
    table(
      ["quantity", "value"],
      ["l", "r"],
      [
        ["billable requests per hour", fmt(cap.billable_per_hour.total)],
        ...Object.entries(cap.billable_per_hour.by_mode).map(([k, v]) => [
          `… billing mode ${mdText(billingModeName(k))}`,
          fmt(v),
        ]),
        ...Object.entries(cap.billable_per_hour.by_vendor).map(([k, v]) => [
          `… vendor ${mdText(vendorName(k))}`,
          fmt(v),
        ]),
        ["CDN egress", fmtUnit(cap.cdn_egress_mbps, "Mb/s")],
        ["media relay", fmtUnit(cap.media_relay_mbps, "Mb/s")],
        [
          "per user",
          `${fmt(cap.per_user.billable_per_hour)}/h, ${fmtUnit(cap.per_user.cdn_mbps, "Mb/s")} CDN, ${fmtUnit(cap.per_user.media_mbps, "Mb/s")} media`,
        ],
        [
          "per room",
          `${fmt(cap.per_room.billable_per_hour)}/h, ${fmtUnit(cap.per_room.cdn_mbps, "Mb/s")} CDN, ${fmtUnit(cap.per_room.media_mbps, "Mb/s")} media`,
        ],
        ...(cap.knee_limited_by === "generator"
          ? [
              [
                "knee",
                `**none: limited by the load generator**${cap.generator_limit ? ` (saturated at ${fmt(cap.generator_limit.vus)} VUs / ${fmt(cap.generator_limit.rooms)} rooms)` : ""}`,
              ],
            ]
          : []),
        ...(cap.knee
          ? [
              [
                "knee",
                `${mdCode(cap.knee.metric)} ${mdCode(cap.knee.expression)} broke at ${fmt(cap.knee.vus)} VUs / ${fmt(cap.knee.rooms)} rooms`,
              ],
            ]
          : cap.knee === null
            ? [["knee", mdText(kneeText(null, s.thresholds)!.text)]]
            : []),
      ],
    ),
    "",
    "Formulas:",
    "",
    ...cap.formulas.map((f) => `- ${mdCode(f)}`),
    "",
  );

  const errors = Object.entries(c.errors_by_code).sort((a, b) => b[1] - a[1]);
  // Results that count failed iterations by code: a code that failed none was handled by the client.
  const failedBy = typeof c.failed_iterations_by_code === "object" ? c.failed_iterations_by_code : null;
  const totalErrors = errors.reduce((a, [, n]) => a + n, 0);
  out.push(`## Errors: ${fmt(totalErrors)} in ${fmt(c.iterations)} iterations`, "");
  out.push(
    errors.length === 0
      ? "No errors."
      : table(
          ["code", "name", "count", "per iteration", ...(failedBy ? ["iterations failed"] : [])],
          ["l", "l", "r", "r", ...(failedBy ? (["r"] as const) : [])],
          errors.map(([code, n]) => [
            mdCode(code),
            codeInfo(code) ? mdCode(codeInfo(code)!.name) : "–",
            fmt(n),
            fmtPct(c.iterations > 0 ? n / c.iterations : null),
            ...(failedBy ? [failedBy[code] ? fmt(failedBy[code]) : "0 (handled)"] : []),
          ]),
        ),
    "",
    `Counters: ${fmt(c.iterations)} iterations, ${fmt(c.songs_started)} songs started, ${fmt(c.dropped_iterations)} dropped, ${fmt(c.billable_requests)} billable requests, ${fmtBytes(c.bytes_downloaded)} downloaded.`,
    "",
  );
  return out.join("\n");
}
