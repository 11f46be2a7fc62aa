import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decodeToken04 } from "../protocol/token04.ts";
import { readResults } from "../reports/read-results.ts";
import { DEV_APP } from "../simulator/options.ts";
import type { ScenarioDefinition } from "./format.ts";
import { resolveScenario } from "./resolve.ts";
import { EXIT, RunError, runScenario } from "./run/runner.ts";
import { captureErr } from "./test-helpers.ts";
import tokenRenewal from "./token-renewal.ts";
import { validateScenario } from "./validate.ts";
import { pipelineConfig } from "./vu/pipeline.ts";
import type { IterationSpec, VuContext } from "./vu/types.ts";

// The scenario options for token04 login (ktv.auth) and lyrics (ktv.lyrics): validated as data, carried to the
// VU's pipeline config, and run through the real runner (worker threads, embedded simulator).

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const base = (ktv: Record<string, unknown>): unknown => ({
  name: "t",
  description: "",
  options: { vus: 1, duration: "1s" },
  ktv,
});

describe("ktv.auth and ktv.lyrics validation", () => {
  it("accepts the shipped token-renewal scenario and a plain token04 block", () => {
    expect(validateScenario(tokenRenewal)).toEqual([]);
    expect(validateScenario(base({ auth: { mode: "token04" }, lyrics: "lrc" }))).toEqual([]);
    expect(resolveScenario(base({}) as ScenarioDefinition)).toMatchObject({
      auth: { mode: "appsign", ttlSeconds: 3600, staleShare: 0 },
      lyrics: null,
    });
  });

  it("lists every problem: bad mode, a life inside the vendor's 30 s warning, shares, kinds, VU kinds", () => {
    expect(
      validateScenario(
        base({ auth: { mode: "jwt", ttlSeconds: 30, staleShare: 2, extra: 1 }, lyrics: "srt" }),
      ),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^ktv\.auth: unknown key "extra"|^ktv\.auth\.extra/),
        'ktv.auth.mode: must be "appsign" or "token04", got "jwt"',
        "ktv.auth.ttlSeconds: must be an integer in 31..604800, got 30",
        "ktv.auth.staleShare: must be a number in 0..1, got 2",
        'ktv.lyrics: must be "krc" or "lrc", got "srt"',
      ]),
    );
    expect(validateScenario(base({ vu: "music", auth: { mode: "token04" }, lyrics: "krc" }))).toEqual([
      'ktv.auth: is for pipeline VUs (ktv.vu is "music")',
      'ktv.lyrics: is for pipeline VUs (ktv.vu is "music")',
    ]);
    expect(validateScenario(base({ auth: { mode: "appsign", ttlSeconds: 60 } }))).toEqual([
      'ktv.auth.mode: ttlSeconds and staleShare apply to "token04" only',
    ]);
  });
});

describe("a token04 VU's pipeline config", () => {
  const ctx = {
    target: "http://127.0.0.1:1",
    appID: DEV_APP.app_id,
    appSign: DEV_APP.app_sign,
    tokenSecret: DEV_APP.token_secret,
  } as VuContext;
  const spec = {
    userID: "k1-v0",
    roomID: "k1-r0",
    seat: { room: 0, slot: 0, role: "singer" },
    resource: { type: 2, quality: 0, vendorId: 0, billingMode: 0 },
    song: { songID: "1" },
    seconds: 1,
    seed: 1,
    codec: "pcm",
    preferShared: false,
    listenTo: null,
    masterID: "k1-v0",
  } as unknown as IterationSpec;

  it("has no app sign, a token for the VU's user of the scenario's lifetime, and mints fresh ones", async () => {
    const c = pipelineConfig(ctx, { ...spec, auth: { ttlSeconds: 40, first: "fresh" }, lyrics: "krc" });
    expect(c.appSign).toBeUndefined();
    expect(c.lyrics).toBe("krc");
    const first = decodeToken04(c.token!, DEV_APP.token_secret);
    expect(first).toMatchObject({ app_id: DEV_APP.app_id, user_id: "k1-v0" });
    expect(first.expire - first.ctime).toBe(40);
    const next = decodeToken04(await c.renewToken!(), DEV_APP.token_secret);
    expect(next.expire - next.ctime).toBe(40);
    const stale = pipelineConfig(ctx, { ...spec, auth: { ttlSeconds: 40, first: "expired" } });
    expect(decodeToken04(stale.token!, DEV_APP.token_secret).expire).toBeLessThan(Date.now() / 1000 - 30);
    expect(() =>
      pipelineConfig(
        { ...ctx, tokenSecret: undefined },
        { ...spec, auth: { ttlSeconds: 40, first: "fresh" } },
      ),
    ).toThrow(/token04 login needs the server secret of app 1000000001/);
  });

  it("without ktv.auth the VU keeps the app sign", () => {
    const c = pipelineConfig(ctx, spec);
    expect(c).toMatchObject({ appSign: DEV_APP.app_sign });
    expect(c.token).toBeUndefined();
    expect(c.lyrics).toBeUndefined();
  });
});

describe("a token04 + lyrics run through the runner", () => {
  it("renews on the room's warning, re-mints stale logins, fetches lyrics: no user-visible error", async () => {
    const out = mkdtempSync(join(tmpdir(), "ktv-token-run-"));
    dirs.push(out);
    const err = captureErr();
    // A 31 s token is inside the vendor's 30 s warning a second after login: every iteration renews.
    const scenario = resolveScenario({
      name: "token-short",
      description: "token04 logins renewed within a few seconds",
      options: {
        scenarios: { rooms: { executor: "constant-vus", vus: 2, duration: "6s", gracefulStop: "10s" } },
        thresholds: {
          errors: ["rate==0"],
          "recoveries{rule:token-renew}": ["count>0"],
          "recoveries{rule:token-remint}": ["count>0"],
          lyrics_fetch_ms: ["count>0"],
        },
      },
      ktv: {
        population: { usersPerRoom: 2 },
        resource: { type: 2 },
        singSeconds: 2.5,
        auth: { mode: "token04", ttlSeconds: 31, staleShare: 0.5 },
        lyrics: "krc",
        simulator: { catalogSize: 2000 },
      },
    });
    const outcome = await runScenario({ scenario, out, seed: 5, err, workers: 1 });
    const s = readResults(out).summary;
    expect(s.thresholds.map((t) => [t.metric, t.ok])).toEqual([
      ["errors", true],
      ["recoveries{rule:token-renew}", true],
      ["recoveries{rule:token-remint}", true],
      ["lyrics_fetch_ms", true],
    ]);
    expect(outcome.exitCode, err.text()).toBe(EXIT.ok);
    expect(s.counters.billable_requests).toBe(readResults(out).ledger.rows.length);
  }, 60_000);

  it("refuses to start a token04 scenario for an app whose secret it does not have", async () => {
    const err = captureErr();
    const scenario = resolveScenario(base({ auth: { mode: "token04" } }) as ScenarioDefinition);
    await expect(runScenario({ scenario, out: "/nonexistent", seed: 1, err, appID: 42 })).rejects.toThrow(
      new RunError(
        "scenario t logs in with token04: give the server secret of app 42 (ktv run --token-secret; RunOptions.tokenSecret)",
      ),
    );
  });
});
