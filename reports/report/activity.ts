// The report's lines for what singers did beyond the song start: lyrics followed with playback, media player
// actions, and time to first audio phase by phase (`phase_<name>_ms`, ms since the song pick). Read from the
// summary only; a run without them has none of these lines (null), so older results render as before.

import type { MetricSummary, RunSummary } from "../format.ts";
import { fmt, fmtUnit, unitOf } from "../units.ts";
import { type Html, html } from "./escape.ts";

export interface CounterLine {
  key: string;
  label: string;
  value: number;
}

export interface TrendLine {
  key: string;
  label: string;
  m: MetricSummary;
}

export interface Activity {
  lyrics: { counters: CounterLine[]; trends: TrendLine[] } | null;
  player: CounterLine[] | null;
  phases: TrendLine[] | null;
}

const LYRIC_COUNTERS: [string, string][] = [
  ["lyric_lines_shown", "lyric lines shown as playback reached them"],
  ["lyric_lines_skipped", "lyric lines passed within one frame behind another (late ticks)"],
  ["lyrics_unavailable", "singer iterations with lyrics asked for and none to be had"],
];

const LYRIC_TRENDS: [string, string][] = [
  ["lyrics_fetch_ms", "lyrics fetch (KRC, and the LRC after a fallback)"],
  ["lyric_drift_ms", "per line shown: player position minus the line's begin"],
];

const PLAYER_COUNTERS: [string, string][] = [
  ["player_pauses", "media player pauses while publishing"],
  ["player_resumes", "resumes after a pause"],
  ["player_seeks", "seeks (back to a whole second of the song)"],
  ["player_paused_frames", "10 ms frames published while paused"],
  ["player_link_drops", "singers' network links dropped (each reconnects)"],
];

/** The phases of a song start in the order they happen (reference/pipeline/result.ts PhaseName). */
const PHASE_ORDER = [
  "request",
  "first_byte",
  "playable",
  "download_done",
  "loaded",
  "publishing",
  "first_frame",
  "first_packet",
];

const PHASE_LABELS: Record<string, string> = {
  request: "requestResource answered",
  first_byte: "first file bytes written",
  playable: "header and pre-roll in (playable)",
  download_done: "download complete",
  loaded: "player loaded (and the pitch line in)",
  publishing: "stream accepted by the media server",
  first_frame: "first 10 ms frame mixed",
  first_packet: "first packet sent",
};

const PHASE = /^phase_(.+)_ms$/;

/** Every metric the section shows, so the whole-run table need not show them again. */
export function isActivityMetric(name: string): boolean {
  return PHASE.test(name) || LYRIC_TRENDS.some(([k]) => k === name);
}

/** The metrics the whole-run table shows: all but this section's. */
export function withoutActivity(metrics: Record<string, MetricSummary>): Record<string, MetricSummary> {
  return Object.fromEntries(Object.entries(metrics).filter(([name]) => !isActivityMetric(name)));
}

export function activityOf(s: RunSummary): Activity {
  const counters = s.counters as unknown as Record<string, unknown>;
  const counterLines = (list: [string, string][]): CounterLine[] =>
    list.flatMap(([key, label]) => {
      const v = counters[key];
      return typeof v === "number" ? [{ key, label, value: v }] : [];
    });
  const lyricCounters = counterLines(LYRIC_COUNTERS);
  const lyricTrends = LYRIC_TRENDS.flatMap(([key, label]) => {
    const m = s.metrics[key];
    return m ? [{ key, label, m }] : [];
  });
  const player = counterLines(PLAYER_COUNTERS);
  const phases = Object.keys(s.metrics)
    .flatMap((key) => {
      const name = PHASE.exec(key)?.[1];
      return name ? [{ key, name }] : [];
    })
    .sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name))
    .map(({ key, name }) => ({ key, label: `pick → ${PHASE_LABELS[name] ?? name}`, m: s.metrics[key]! }));
  return {
    lyrics:
      lyricCounters.length + lyricTrends.length > 0 ? { counters: lyricCounters, trends: lyricTrends } : null,
    player: player.length > 0 ? player : null,
    phases: phases.length > 0 ? phases : null,
  };
}

function rank(phase: string): number {
  const i = PHASE_ORDER.indexOf(phase);
  return i < 0 ? PHASE_ORDER.length : i;
}

const TREND_HEAD = ["count", "p50", "p95", "p99", "max"] as const;
const trendCells = (t: TrendLine) =>
  TREND_HEAD.map((k) => (k === "count" ? fmt(t.m.count) : fmtUnit(t.m[k], unitOf(t.key))));

export const PHASES_EXPLAINED =
  "Each phase of a song start, ms since the song pick (the first time each was reached per singer " +
  "iteration): where time to first audio from the pick (pick_to_first_packet_ms) goes.";

/** The page's section body: one table per group the summary has, or a line saying it has none. */
export function activityHtml(a: Activity): Html {
  if (!a.lyrics && !a.player && !a.phases) {
    return html`<p class="muted">No lyric, player or song-start phase metrics in these results (scenario options ktv.lyrics and ktv.player; phases per singer).</p>`;
  }
  const counterTable = (lines: CounterLine[]) => html`<table class="data">
<thead><tr><th>Counter</th><th>What it counts</th><th class="num">Count</th></tr></thead>
<tbody>${lines.map((l) => html`<tr><td><code>${l.key}</code></td><td>${l.label}</td><td class="num">${fmt(l.value)}</td></tr>`)}</tbody></table>`;
  const trendTable = (lines: TrendLine[]) => html`<table class="data">
<thead><tr><th>Metric</th>${TREND_HEAD.map((h) => html`<th class="num">${h}</th>`)}</tr></thead>
<tbody>${lines.map((t) => html`<tr><td><code>${t.key}</code> <span class="muted">${t.label}</span></td>${trendCells(t).map((c) => html`<td class="num">${c}</td>`)}</tr>`)}</tbody></table>`;
  return html`${
    a.phases
      ? html`<h3>Time to first audio, phase by phase</h3><p class="muted">${PHASES_EXPLAINED}</p>${trendTable(a.phases)}`
      : null
  }${
    a.lyrics
      ? html`<h3>Lyrics</h3>${a.lyrics.trends.length > 0 ? trendTable(a.lyrics.trends) : null}${a.lyrics.counters.length > 0 ? counterTable(a.lyrics.counters) : null}`
      : null
  }${a.player ? html`<h3>Media player</h3>${counterTable(a.player)}` : null}`;
}

/** The Markdown lines (none when the summary has none of these); cells go through the caller's escapers. */
export function activityMarkdown(
  a: Activity,
  esc: { text(s: string): string; code(s: string): string },
): string[] {
  const row = (c: string[]) => `| ${c.join(" | ")} |`;
  const trends = (lines: TrendLine[]) => [
    row(["metric", ...TREND_HEAD]),
    row(["---", ...TREND_HEAD.map(() => "---:")]),
    ...lines.map((t) => row([`${esc.code(t.key)} ${esc.text(t.label)}`, ...trendCells(t).map(esc.text)])),
    "",
  ];
  const counters = (lines: CounterLine[]) => [
    row(["counter", "count"]),
    row(["---", "---:"]),
    ...lines.map((l) => row([`${esc.code(l.key)} ${esc.text(l.label)}`, esc.text(fmt(l.value))])),
    "",
  ];
  const out: string[] = [];
  if (a.phases)
    out.push(
      "## Time to first audio, phase by phase",
      "",
      esc.text(PHASES_EXPLAINED),
      "",
      ...trends(a.phases),
    );
  if (a.lyrics) {
    out.push("## Lyrics", "");
    if (a.lyrics.trends.length > 0) out.push(...trends(a.lyrics.trends));
    if (a.lyrics.counters.length > 0) out.push(...counters(a.lyrics.counters));
  }
  if (a.player) out.push("## Media player", "", ...counters(a.player));
  return out;
}
