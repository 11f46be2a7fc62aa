import { describe, expect, it } from "vitest";
import { baseline } from "../fixtures/make-results.ts";
import type { MetricSummary } from "../format.ts";
import { fmtUnit } from "../units.ts";
import { activityHtml, activityMarkdown, activityOf, withoutActivity } from "./activity.ts";
import { mdCode, mdText, renderMarkdown } from "./markdown.ts";
import { renderReport } from "./page.ts";

// Lyric, player and song-start phase lines: shown exactly when the summary has them, phases in the order a
// song start passes them (any phase_<name>_ms, known or not), and not shown twice.

const m = (p50: number): MetricSummary => ({
  count: 40,
  min: p50 / 2,
  mean: p50,
  p50,
  p90: p50 * 1.5,
  p95: p50 * 2,
  p99: p50 * 3,
  p999: p50 * 4,
  max: p50 * 5,
});

function withActivity() {
  const files = baseline(1);
  const s = files.summary;
  // Out of order on purpose, and one phase the report has never heard of.
  s.metrics.phase_first_packet_ms = m(90);
  s.metrics.phase_request_ms = m(12);
  s.metrics.phase_warmup_ms = m(3);
  s.metrics.phase_loaded_ms = m(60);
  s.metrics.lyric_drift_ms = m(4);
  s.metrics.lyrics_fetch_ms = m(8);
  Object.assign(s.counters, {
    lyric_lines_shown: 321,
    lyric_lines_skipped: 2,
    lyrics_unavailable: 0,
    player_pauses: 7,
    player_resumes: 7,
    player_seeks: 5,
    player_paused_frames: 350,
  });
  return files;
}

describe("lyric, player and phase lines", () => {
  it("reads what the summary has: phases in song-start order, lyric trends and counters, player counters", () => {
    const a = activityOf(withActivity().summary);
    expect(a.phases!.map((p) => [p.key, p.label])).toEqual([
      ["phase_request_ms", "pick → requestResource answered"],
      ["phase_loaded_ms", "pick → player loaded (and the pitch line in)"],
      ["phase_first_packet_ms", "pick → first packet sent"],
      ["phase_warmup_ms", "pick → warmup"],
    ]);
    expect(a.lyrics!.trends.map((t) => t.key)).toEqual(["lyrics_fetch_ms", "lyric_drift_ms"]);
    expect(a.lyrics!.counters.map((c) => [c.key, c.value])).toEqual([
      ["lyric_lines_shown", 321],
      ["lyric_lines_skipped", 2],
      ["lyrics_unavailable", 0],
    ]);
    // A counter the run did not record (no link drops configured) has no line.
    expect(a.player!.map((c) => [c.key, c.value])).toEqual([
      ["player_pauses", 7],
      ["player_resumes", 7],
      ["player_seeks", 5],
      ["player_paused_frames", 350],
    ]);
  });

  it("a summary without them has no such lines, and the page says so", () => {
    const files = baseline(1);
    expect(activityOf(files.summary)).toEqual({ lyrics: null, player: null, phases: null });
    expect(activityMarkdown(activityOf(files.summary), { text: mdText, code: mdCode })).toEqual([]);
    expect(activityHtml(activityOf(files.summary)).value).toContain(
      "No lyric, player or song-start phase metrics",
    );
  });

  it("the page and the Markdown show each line once, with its value", () => {
    const files = withActivity();
    const page = renderReport({ dir: "d", ...files });
    expect(page).toContain(`<section class="card" id="activity">`);
    expect(page).toContain("Time to first audio, phase by phase");
    expect(page.match(/<code>phase_request_ms<\/code>/g)).toHaveLength(1);
    expect(page.match(/<code>lyric_drift_ms<\/code>/g)).toHaveLength(1);
    expect(page).toContain("<code>player_seeks</code>");
    expect(page).toContain(`<td class="num">${fmtUnit(12, "ms")}</td>`);

    const md = renderMarkdown({ dir: "d", ...files });
    expect(md).toContain("## Time to first audio, phase by phase");
    expect(md).toContain(
      `| \`phase_request_ms\` pick → requestResource answered | 40 | ${fmtUnit(12, "ms")} | ${fmtUnit(24, "ms")} | ${fmtUnit(36, "ms")} | ${fmtUnit(60, "ms")} |`,
    );
    expect(md).toContain("| `lyric_lines_shown` lyric lines shown as playback reached them | 321 |");
    expect(md).toContain("## Media player");
    expect(md.match(/`phase_loaded_ms`/g)).toHaveLength(1);
    expect(Object.keys(withoutActivity(files.summary.metrics))).not.toContain("phase_loaded_ms");
    expect(Object.keys(withoutActivity(files.summary.metrics))).toContain("ttfa_ms");
  });
});
