import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddedSimulator, startEmbeddedSimulator } from "../run/embedded-simulator.ts";
import { EXIT } from "./errors.ts";
import { type K6RunOptions, runK6 } from "./run.ts";

// `ktv k6`: the shipped smoke script through the CLI against the embedded simulator, and the runner's rules
// on small fixture scripts in process (scenarios/k6/fixtures): per-VU module state, thresholds' exit 99,
// unsupported APIs stopping the test by name, and the k6 type check failing on a misuse.

const root = fileURLToPath(new URL("../..", import.meta.url));
const fixture = (name: string) => join(root, "scenarios/k6/fixtures", name);

function capture(): { o: Pick<K6RunOptions, "out" | "err">; out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    o: {
      out: {
        write: (t) => {
          out += t;
        },
      },
      err: {
        write: (t) => {
          err += t;
        },
      },
    },
    out: () => out,
    err: () => err,
  };
}

interface Line {
  type: string;
  metric: string;
  data: { value?: number; tags?: Record<string, string>; type?: string };
}

describe("ktv k6", () => {
  it("runs scenarios/k6/smoke.ts against the embedded simulator: every check passes, k6's metrics and JSON points are written", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ktv-k6-"));
    const json = join(dir, "points.ndjson");
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(root, "scenarios/cli/ktv.ts"),
        "k6",
        "scenarios/k6/smoke.ts",
        "--out",
        `json=${json}`,
      ],
      { cwd: root },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((r) => child.on("exit", r));
    expect(code, stderr).toBe(0);
    expect(stdout).toContain("✓ download: every byte");
    expect(stdout).not.toContain("✗");

    const lines = readFileSync(json, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Line);
    const declared = new Map(lines.filter((l) => l.type === "Metric").map((l) => [l.metric, l.data.type]));
    for (const [m, type] of [
      ["http_reqs", "counter"],
      ["http_req_duration", "trend"],
      ["http_req_waiting", "trend"],
      ["http_req_failed", "rate"],
      ["iterations", "counter"],
      ["iteration_duration", "trend"],
      ["data_sent", "counter"],
      ["data_received", "counter"],
      ["checks", "rate"],
      ["vus", "gauge"],
      ["download_ms", "trend"],
    ] as const)
      expect(declared.get(m), m).toBe(type);
    const points = (m: string) => lines.filter((l) => l.type === "Point" && l.metric === m);
    expect(points("iterations")).toHaveLength(3);
    const checks = points("checks");
    expect(checks.length).toBeGreaterThan(3 * 15);
    expect(checks.every((p) => p.data.value === 1)).toBe(true);
    // Every request of the flow answered, tagged by the script's names.
    const names = new Set(points("http_reqs").map((p) => p.data.tags?.name));
    for (const n of [
      "initCopyrightedMusic",
      "requestResource",
      "getSharedResource",
      "download",
      "getStandardPitch",
    ])
      expect(names.has(n), n).toBe(true);
    expect(points("http_req_failed").every((p) => p.data.value === 0)).toBe(true);
    // Both Range pieces of every download arrived: the bytes the script counted are the files' sizes.
    const received = points("data_received").reduce((a, p) => a + p.data.value!, 0);
    const downloaded = points("bytes_downloaded").reduce((a, p) => a + p.data.value!, 0);
    expect(downloaded).toBeGreaterThan(0);
    expect(received).toBeGreaterThan(downloaded);
  }, 180_000);

  it("gives every VU its own module state, __VU, __ITER and exec", async () => {
    const c = capture();
    const r = await runK6({ script: fixture("per-vu-state.ts"), env: {}, ...c.o });
    expect(r.exitCode, c.err()).toBe(EXIT.ok);
    const checks = r.summary!.root_group.checks;
    expect(checks.map((x) => [x.name, x.passes, x.fails])).toEqual([
      ["module state counts this VU's iterations", 6, 0],
      ["__VU is exec.vu.idInTest", 6, 0],
      ["scenario name", 6, 0],
      ["iterationInTest numbers the scenario's 6 iterations", 6, 0],
    ]);
    // Shared module state would have counted to 6.
    expect(r.summary!.metrics.module_counter!.values.max).toBe(3);
    expect(r.summary!.metrics.iterations!.values.count).toBe(6);
  });

  it("exits 99 when a threshold fails, naming it, and still prints the summary", async () => {
    const c = capture();
    const r = await runK6({ script: fixture("threshold-breach.ts"), env: {}, ...c.o });
    expect(r.exitCode).toBe(EXIT.thresholds);
    expect(r.thresholds).toEqual([
      { key: "things", source: "count<1", ok: false, observed: 2 },
      { key: "iterations", source: "count==2", ok: true, observed: 2 },
    ]);
    expect(c.err()).toContain("threshold FAILED: things count<1");
    expect(c.out()).toContain("✗ 'count<1'");
  });

  it("abortOnFail stops the run once the threshold fails (after delayAbortEval) and exits 99", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ktv-k6-"));
    const script = join(dir, "s.js");
    writeFileSync(
      script,
      `import { Counter } from "k6/metrics";
import { setTimeout } from "k6/timers";
const bad = new Counter("bad");
export const options = {
  scenarios: { long: { executor: "constant-vus", vus: 1, duration: "10m", gracefulStop: "0s" } },
  thresholds: { bad: [{ threshold: "count<1", abortOnFail: true, delayAbortEval: "1s" }] },
};
export default async function () { bad.add(1); await new Promise((r) => setTimeout(r, 50)); }
`,
    );
    const c = capture();
    const r = await runK6({ script, env: {}, ...c.o });
    expect(r.exitCode).toBe(EXIT.thresholds);
    expect(c.err()).toContain("threshold bad count<1 failed during the run (abortOnFail): stopping");
    // Stopped by the threshold, not by the 10-minute scenario.
    expect(r.summary!.state.testRunDurationMs).toBeLessThan(5 * 60_000);
  }, 60_000);

  it("a threshold on a metric the script never defined is an invalid config (104)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ktv-k6-"));
    const script = join(dir, "s.js");
    writeFileSync(
      script,
      'export const options = { thresholds: { nope: ["count>0"] } };\nexport default async function () {}\n',
    );
    const c = capture();
    const r = await runK6({ script, env: {}, ...c.o });
    expect(r.exitCode).toBe(EXIT.invalidConfig);
    expect(c.err()).toContain('no metric named "nope"');
  });

  it("stops with 107 naming the API when the script uses one the runner lacks", async () => {
    const sync = capture();
    const a = await runK6({ script: fixture("unsupported-sync-http.ts"), env: {}, ...sync.o });
    expect(a.exitCode).toBe(EXIT.scriptException);
    expect(sync.err()).toContain("http.get() (synchronous) is not supported by ktv's k6 runner");
    expect(sync.err()).toContain("http.asyncRequest");

    const mod = capture();
    const b = await runK6({ script: fixture("unsupported-module.ts"), env: {}, ...mod.o });
    expect(b.exitCode).toBe(EXIT.scriptException);
    expect(mod.err()).toContain('the module "k6/ws" is not supported');
  });

  it("a request that outlasts its timeout answers status 0, error_code 1050, and counts as failed", async () => {
    const server = createServer(() => {}); // never answers
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), "ktv-k6-"));
    const script = join(dir, "s.js");
    writeFileSync(
      script,
      `import http from "k6/http";
import { check } from "k6";
export const options = { iterations: 1 };
export default async function () {
  const r = await http.asyncRequest("GET", "http://127.0.0.1:${port}/", null, { timeout: "200ms" });
  check(r, { "timed out": (x) => x.status === 0 && x.error_code === 1050 && x.error === "request timeout" });
}
`,
    );
    const c = capture();
    try {
      const r = await runK6({ script, env: {}, ...c.o });
      expect(r.exitCode, c.err()).toBe(EXIT.ok);
      expect(r.summary!.metrics.checks!.values.passes).toBe(1);
      expect(r.summary!.metrics.http_req_failed!.values.rate).toBe(1);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("exits 100 when setup() outlasts options.setupTimeout", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ktv-k6-"));
    const script = join(dir, "s.js");
    writeFileSync(
      script,
      `import { setTimeout } from "k6/timers";
export const options = { setupTimeout: "50ms", iterations: 1 };
export function setup() { return new Promise((r) => setTimeout(r, 2000)); }
export default async function () {}
`,
    );
    const c = capture();
    const r = await runK6({ script, env: {}, ...c.o });
    expect(r.exitCode).toBe(EXIT.setupTimeout);
    expect(c.err()).toContain("setup() timed out");
  });

  it("calls handleSummary with k6's data and writes what it returns instead of the text summary", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ktv-k6-"));
    const script = join(dir, "s.js");
    const file = join(dir, "summary.json");
    writeFileSync(
      script,
      `import { check, group } from "k6";
export const options = { vus: 2, iterations: 4 };
export default async function () { await group("g", async () => { check(1, { one: (v) => v === 1 }); }); }
export function handleSummary(data) { return { stdout: "custom\\n", ${JSON.stringify(file)}: JSON.stringify(data) }; }
`,
    );
    const c = capture();
    const r = await runK6({ script, env: {}, ...c.o });
    expect(r.exitCode, c.err()).toBe(EXIT.ok);
    expect(c.out()).toBe("custom\n");
    const data = JSON.parse(readFileSync(file, "utf8"));
    expect(data.metrics.iterations.values.count).toBe(4);
    expect(data.metrics.checks.values).toEqual({ rate: 1, passes: 4, fails: 0 });
    expect(data.root_group.groups[0]).toMatchObject({
      name: "g",
      path: "::g",
      checks: [{ name: "one", passes: 4 }],
    });
    expect(data.metrics.group_duration.values.max).toBeGreaterThanOrEqual(0);
  });

  it("--engine k6 without a k6 on PATH says so and exits 1 (k6 is not a dependency)", () => {
    const r = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        join(root, "scenarios/cli/ktv.ts"),
        "k6",
        "scenarios/k6/smoke.ts",
        "--engine",
        "k6",
      ],
      { cwd: root, encoding: "utf8", env: { ...process.env, PATH: dirname(process.execPath) } },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("--engine k6: no k6 on PATH");
  }, 60_000);

  it("the k6 type check fails on a script that misuses the k6 API", () => {
    const dir = mkdtempSync(join(tmpdir(), "ktv-k6-tsc-"));
    const config = join(dir, "tsconfig.json");
    writeFileSync(
      config,
      JSON.stringify({
        extends: join(root, "scenarios/k6/tsconfig.json"),
        compilerOptions: { typeRoots: [join(root, "node_modules/@types")] },
        include: [fixture("misuse.ts")],
        exclude: [],
      }),
    );
    const r = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", config], {
      encoding: "utf8",
    });
    expect(r.status).not.toBe(0);
    const errors = r.stdout.split("\n").filter((l) => l.includes("misuse.ts("));
    // One error on every line the fixture marks as a misuse, and none elsewhere.
    const marked = readFileSync(fixture("misuse.ts"), "utf8")
      .split("\n")
      .flatMap((l, i) => (l.includes("// misuse:") ? [String(i + 1)] : []));
    expect(marked).toHaveLength(5);
    expect([...new Set(errors.map((l) => /misuse\.ts\((\d+),/.exec(l)?.[1]))]).toEqual(marked);
  }, 60_000);
});

describe("ktv k6: the load scripts, short, against one simulator", () => {
  let sim: EmbeddedSimulator;
  beforeAll(async () => {
    sim = await startEmbeddedSimulator({
      port: 0,
      host: "127.0.0.1",
      seed: 1,
      dataDir: ":memory:",
      logLevel: "silent",
    });
  }, 60_000);
  afterAll(() => sim?.close());

  it("vendor-api.ts: an open model over the weighted mix; every arrival ran or was dropped, every call answered", async () => {
    const c = capture();
    const r = await runK6({
      script: join(root, "scenarios/k6/vendor-api.ts"),
      env: { KTV_TARGET: sim.url, KTV_RATE: "10", KTV_DURATION: "3s", KTV_VUS: "4" },
      ...c.o,
    });
    const m = r.summary!.metrics;
    // 10/s for 3 s: 30 arrivals, each run or dropped (a loaded machine may drop; the plan is exact).
    expect((m.iterations?.values.count ?? 0) + (m.dropped_iterations?.values.count ?? 0)).toBe(30);
    expect(m.checks!.values.fails, c.err()).toBe(0);
    expect(m.http_req_failed!.values.passes).toBe(0);
    expect(m["http_req_duration{name:requestResource}"]).toBeDefined();
  }, 60_000);

  it("download.ts: every file arrives whole in Range pieces bound by If-Range", async () => {
    const c = capture();
    const r = await runK6({
      script: join(root, "scenarios/k6/download.ts"),
      env: { KTV_TARGET: sim.url, KTV_DURATION: "2s", KTV_VUS: "2" },
      ...c.o,
    });
    expect(r.exitCode, c.err() + c.out()).toBe(EXIT.ok);
    const m = r.summary!.metrics;
    expect(m.songs_started!.values.count).toBeGreaterThan(0);
    expect(m.songs_started!.values.count).toBe(m.billable_requests!.values.count);
    const pieces = r.summary!.root_group.checks.find((x) => x.name === "download: 206 with the asked range");
    // A file is several pieces of 256 KiB.
    expect(pieces!.passes).toBeGreaterThan(2 * m.songs_started!.values.count!);
  }, 60_000);

  it("media.ts: a publisher's real-time frames reach its players over k6/websockets, latency from the capture time", async () => {
    const c = capture();
    const r = await runK6({
      script: join(root, "scenarios/k6/media.ts"),
      env: { KTV_TARGET: sim.url, KTV_VUS: "1", KTV_PLAYERS: "2", KTV_SECONDS: "1" },
      ...c.o,
    });
    expect(r.exitCode, c.err() + c.out()).toBe(EXIT.ok);
    const m = r.summary!.metrics;
    expect(m.ws_sessions!.values.count).toBe(3);
    expect(m.ws_session_duration!.values.max).toBeGreaterThan(0);
    // 50 frames of 20 ms, relayed to each of the 2 players (the check allows a late tenth).
    expect(m.media_frames_received!.values.count).toBeGreaterThanOrEqual(90);
    expect(m.media_frames_received!.values.count).toBeLessThanOrEqual(100);
    expect(m.e2e_latency_ms!.values.max).toBeGreaterThanOrEqual(0);
    expect(m.media_bytes_published!.values.count).toBe(50 * (32 + 1920));
  }, 60_000);
});
