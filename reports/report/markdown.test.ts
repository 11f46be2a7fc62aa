import { describe, expect, it } from "vitest";
import { baseline } from "../fixtures/make-results.ts";
import type { ServerApiActionLine } from "../format.ts";
import { fmtUnit } from "../units.ts";
import { mdCode, mdText, renderMarkdown } from "./markdown.ts";
import { SERVER_API_EXPLAINED, serverApiTable } from "./server-api.ts";
import { VENDOR_ROUTES_EXPLAINED, vendorRoutesTable } from "./vendor-routes.ts";

describe("the Markdown summary", () => {
  const files = baseline(1);
  const md = renderMarkdown({ dir: "d", ...files });
  const s = files.summary;

  it("has the run facts, thresholds, key percentiles, capacity and errors", () => {
    expect(md).toMatch(/^# ktv report: regression\n/);
    expect(md).toContain(`| git commit | \`${s.environment.git_commit}\` |`);
    expect(md).toContain("| interrupted | no |");
    expect(md).toContain("## Thresholds: **2 of 6 failed**");
    expect(md).toContain(
      `| ✅ pass | \`ttfa_ms\` | \`p(95)<800\` | ${fmtUnit(s.thresholds[0]!.observed, "ms")} |`,
    );
    expect(md).toContain("| ❌ **fail** | `errors{code:1017097}` | `rate<0.01` |");
    expect(md).toContain("## Key percentiles");
    const ttfa = s.metrics.ttfa_ms!;
    expect(md).toContain(
      `| \`ttfa_ms\` Time to first audio (from the session start) | 1,047 | ${fmtUnit(ttfa.p50, "ms")} | ${fmtUnit(ttfa.p95, "ms")} |`,
    );
    expect(md).toContain("| `ttfa_ms` from intended start |");
    expect(md).toContain("## Capacity");
    expect(md).toContain("| billable requests per hour | 45,360 |");
    expect(md).toContain("| knee | Knee not located: 2 of 6 thresholds failed over the whole run");
    expect(md).toContain(`- \`${s.capacity.formulas[0]}\``);
    expect(md).toContain("## Errors: 24 in 1,071 iterations");
    expect(md).toContain("| `1017097` | `SYSTEM_BUSY` | 20 | 1.87% |");
  });

  it("escapes text from the files", () => {
    expect(mdText("a|b <script>*x*</script> [l](u) `c`")).toBe(
      "a\\|b &lt;script&gt;\\*x\\*&lt;/script&gt; \\[l\\](u) \\`c\\`",
    );
    expect(mdText("line\nbreak")).toBe("line break");
    expect(mdCode("p(95)<800 | `x`")).toBe("`p(95)<800 \\| 'x'`");
    const hostile = baseline(1, { durationS: 12 });
    hostile.summary.scenario.name = "<img src=x onerror=alert(1)>|";
    const out = renderMarkdown({ dir: "d", ...hostile });
    expect(out).toContain("# ktv report: &lt;img src=x onerror=alert(1)&gt;\\|");
    expect(out).not.toContain("<img");
  });

  it("lists the run's checks, failed ones first in the heading", () => {
    const files = baseline(1, { durationS: 12 });
    expect(renderMarkdown({ dir: "d", ...files })).not.toContain("## Checks");
    files.summary.checks = [
      { name: "billing", ok: false, detail: "it has 4 | rows" },
      { name: "faults", ok: true, detail: "fired" },
    ];
    const out = renderMarkdown({ dir: "d", ...files });
    expect(out).toContain("## Checks: **1 of 2 failed**");
    expect(out).toContain("| ❌ **fail** | `billing` | it has 4 \\| rows |");
  });

  it("tells handled error codes from the ones that failed iterations", () => {
    const files = baseline(1, { durationS: 12 });
    files.summary.counters.errors_by_code = { "1017050": 6, "1017097": 2 };
    files.summary.counters.failed_iterations_by_code = { "1017097": 2 };
    const out = renderMarkdown({ dir: "d", ...files });
    expect(out).toContain("| code | name | count | per iteration | iterations failed |");
    expect(out).toMatch(/\| `1017050` \| `[A-Z_]+` \| 6 \| [\d.]+% \| 0 \(handled\) \|/);
    expect(out).toMatch(/\| `1017097` \| `SYSTEM_BUSY` \| 2 \| [\d.]+% \| 2 \|/);
  });

  it("marks an interrupted run", () => {
    const out = renderMarkdown({ dir: "d", ...baseline(1, { interrupted: true, durationS: 12 }) });
    expect(out).toContain("| interrupted | **yes**: SIGINT |");
  });
});

describe("vendor requests by route", () => {
  const line = {
    route: "/search/song",
    requests: 1200,
    rate_per_s: 20,
    errors: 3,
    unanswered: 1,
    p50_ms: 4.2,
    p95_ms: 9.1,
    p99_ms: 15,
    max_ms: 40,
  };

  it("has a table with the one-line explanation in Markdown and on the page", () => {
    const files = baseline(1, { durationS: 12 });
    expect(renderMarkdown({ dir: "d", ...files })).not.toContain("## Vendor requests by route");
    files.summary.vendor_routes = [
      line,
      { ...line, route: "download|x", requests: 7, errors: 0, unanswered: 0 },
    ];
    const md = renderMarkdown({ dir: "d", ...files });
    expect(md).toContain("## Vendor requests by route");
    expect(md).toContain(mdText(VENDOR_ROUTES_EXPLAINED));
    expect(md).toContain(
      `| \`/search/song\` | 1,200 | 20/s | 3 (0.25%) | 1 | ${fmtUnit(4.2, "ms")} | ${fmtUnit(9.1, "ms")} | ${fmtUnit(15, "ms")} |`,
    );
    expect(md).toContain("| `download\\|x` | 7 |");
    const page = String(vendorRoutesTable(files.summary));
    expect(page).toContain("<h3>Vendor requests by route</h3>");
    expect(page).toContain("<code>/search/song</code>");
    expect(page).toContain("download|x");
  });
});

describe("the server API section", () => {
  const action: ServerApiActionLine = {
    calls: 1200,
    per_s: 20,
    retries: 3,
    p50: 4.2,
    p95: 9.1,
    p99: 15,
    max: 40,
  };

  it("is absent without server API calls and lists each action, in name order, when there are", () => {
    const files = baseline(1, { durationS: 60 });
    expect(renderMarkdown({ dir: "d", ...files })).not.toContain("## Server API by action");
    expect(String(serverApiTable(files.summary))).toBe("");
    files.summary.server_api = { QuerySongs: action, DescribeSong: { ...action, calls: 7, retries: 0 } };
    const md = renderMarkdown({ dir: "d", ...files });
    expect(md).toContain("## Server API by action");
    expect(md).toContain(mdText(SERVER_API_EXPLAINED));
    expect(md).toContain(
      `| \`QuerySongs\` | 1,200 | 20/s | 3 | ${fmtUnit(4.2, "ms")} | ${fmtUnit(9.1, "ms")} | ${fmtUnit(15, "ms")} | ${fmtUnit(40, "ms")} |`,
    );
    expect(md.indexOf("`DescribeSong`")).toBeLessThan(md.indexOf("`QuerySongs`"));
    const page = String(serverApiTable(files.summary));
    expect(page).toContain("<h3>Server API by action</h3>");
    expect(page).toContain("<code>DescribeSong</code>");
  });
});

describe("a target outage", () => {
  it("is said under the title, with each span, and absent when the target answered throughout", () => {
    const files = baseline(1);
    files.summary.target = { probes: 9, failed_probes: 0, unreachable_s: 0, outages: [] };
    expect(renderMarkdown({ dir: "d", ...files })).not.toContain("Target outage");
    files.summary.target = {
      probes: 9,
      failed_probes: 4,
      unreachable_s: 6,
      outages: [{ from_s: 2, until_s: null, failed_probes: 4, error: "fetch failed" }],
    };
    const md = renderMarkdown({ dir: "d", ...files });
    expect(md).toMatch(
      /^# ktv report: regression\n\n> \*\*⚠️ Target outage\.\*\* The target stopped answering once/,
    );
    expect(md).toContain("> - 2 s – still down at the end, 4 probes unanswered: fetch failed");
    expect(md).toContain("| target availability | unreachable 6 s in 1 outage(s) |");
  });
});
