// What the report says when the target went away during the run (summary.json `target`): a banner at the top
// of the page and under the Markdown title, because every figure of an outage span (errors, latency, rates)
// describes a dead target, not its behaviour under load, and a reader must know before reading them.

import type { RunSummary, TargetOutage } from "../format.ts";
import { fmt } from "../units.ts";
import { type Html, html } from "./escape.ts";

export interface TargetVerdict {
  headline: string;
  /** One line per outage: when, how long, what the first failed probe met. */
  spans: string[];
}

function span(o: TargetOutage): string {
  const until =
    o.until_s === null ? "still down at the end" : `${fmt(o.until_s)} s (${fmt(o.until_s - o.from_s)} s)`;
  return `${fmt(o.from_s)} s – ${until}, ${fmt(o.failed_probes)} probes unanswered: ${o.error}`;
}

/** Null when the target answered every probe, or the results predate the target watch. */
export function targetVerdict(s: RunSummary): TargetVerdict | null {
  const t = s.target;
  if (!t || t.outages.length === 0) return null;
  const n = t.outages.length;
  return {
    headline:
      `The target stopped answering ${n === 1 ? "once" : `${fmt(n)} times`}, ${fmt(t.unreachable_s)} s in all ` +
      `(${fmt(t.failed_probes)} of ${fmt(t.probes)} health probes unanswered). Errors and latency in ` +
      "these spans are the outage's, not the target's behaviour under load.",
    spans: t.outages.map(span),
  };
}

/** One line for the run details: how available the target was (null for results without the watch). */
export function targetSummary(s: RunSummary): string | null {
  const t = s.target;
  if (!t) return null;
  return t.outages.length === 0
    ? `answered all ${fmt(t.probes)} health probes`
    : `unreachable ${fmt(t.unreachable_s)} s in ${fmt(t.outages.length)} outage(s)`;
}

export function targetBanner(s: RunSummary): Html | null {
  const v = targetVerdict(s);
  if (!v) return null;
  return html`<section class="banner warn" id="target-outage" role="alert">
<h2>The target went away during the run</h2>
<p>${v.headline}</p>
<ul>${v.spans.map((l) => html`<li>${l}</li>`)}</ul>
</section>`;
}

export function targetMarkdown(s: RunSummary, text: (s: string) => string): string[] {
  const v = targetVerdict(s);
  if (!v) return [];
  return [`> **⚠️ Target outage.** ${text(v.headline)}`, ">", ...v.spans.map((l) => `> - ${text(l)}`), ""];
}
