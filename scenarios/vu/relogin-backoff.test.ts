import { describe, expect, it } from "vitest";
import type { PipelineConfig } from "../../reference/pipeline/config.ts";
import type { PipelineResult } from "../../reference/pipeline/result.ts";
import { pipelineResult } from "../../reference/pipeline/test-fixtures.ts";
import { MetricSet } from "../metrics/set.ts";
import { recorderOf } from "../test-helpers.ts";
import { createPipelineVu } from "./pipeline.ts";
import { ReloginBackoff, type ReloginPolicy } from "./relogin-backoff.ts";
import type { IterationSpec, VuContext } from "./types.ts";

// The wait before a VU logs in again after the media server refused it for overload, on a virtual clock:
// `sleep` records the delay and resolves at once (or rejects when the VU is stopped).

function virtual(random: () => number = () => 0.5) {
  const waits: number[] = [];
  const policy: Partial<ReloginPolicy> = {
    baseMs: 500,
    maxMs: 8_000,
    random,
    sleep: (ms, signal) => {
      waits.push(ms);
      return signal.aborted ? Promise.reject(signal.reason) : Promise.resolve();
    },
  };
  return { waits, policy };
}

const login = (code: number) => ({ stage: "login", code });

/** A seeded uniform [0, 1) (xorshift32), so the jitter test is repeatable. */
function seeded(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

describe("relogin backoff", () => {
  it("doubles from 500 ms up to 8 s after overload refusals in a row, each wait in [ceiling/2, ceiling]", () => {
    for (const r of [0, 0.999_999]) {
      const b = new ReloginBackoff(virtual(() => r).policy);
      expect(b.nextDelayMs()).toBe(0);
      const got: number[] = [];
      for (let i = 0; i < 7; i++) {
        b.record(login(1002030));
        got.push(b.nextDelayMs());
      }
      const ceilings = [500, 1000, 2000, 4000, 8000, 8000, 8000];
      if (r === 0) expect(got).toEqual(ceilings.map((c) => c / 2));
      else expect(got).toEqual(ceilings.map((c) => c - 1));
    }
  });

  it("counts only login refusals that mean overload; anything else resets", () => {
    const b = new ReloginBackoff(virtual().policy);
    b.record(login(1002031));
    b.record(login(1002071));
    expect(b.nextDelayMs()).toBe(750); // third ceiling would be 2000: two failures -> 1000 × 0.75
    b.record(null);
    expect(b.nextDelayMs()).toBe(0);
    b.record(login(1002030));
    b.record({ stage: "download", code: 1017050 });
    expect(b.nextDelayMs()).toBe(0);
    b.record(login(1002033)); // a wrong token: waiting does not help
    expect(b.nextDelayMs()).toBe(0);
  });

  it("counts an unreachable target (1017098) at any stage, as overload at login; a vendor answer resets", () => {
    const b = new ReloginBackoff(virtual().policy);
    b.record({ stage: "init", code: 1017098 });
    expect(b.nextDelayMs()).toBe(375); // first ceiling 500 -> 0.75
    b.record({ stage: "download", code: 1017098 });
    b.record(login(1002030));
    expect(b.nextDelayMs()).toBe(1500); // three in a row: ceiling 2000
    b.record({ stage: "request", code: 1017001 }); // the target answered: it is up
    expect(b.nextDelayMs()).toBe(0);
  });

  it("spreads a crowd that failed together", () => {
    const random = seeded(42);
    const first = Array.from({ length: 200 }, () => {
      const b = new ReloginBackoff({ ...virtual().policy, random });
      b.record(login(1002030));
      return b.nextDelayMs();
    });
    expect(Math.min(...first)).toBeGreaterThanOrEqual(250);
    expect(Math.max(...first)).toBeLessThan(500);
    // 250 possible values: a crowd of 200 lands on many of them, not on one.
    expect(new Set(first).size).toBeGreaterThan(100);
  });

  it("rejects a policy whose bounds are crossed", () => {
    expect(() => new ReloginBackoff({ baseMs: 1000, maxMs: 10 })).toThrow(RangeError);
  });
});

function result(failure: PipelineResult["failure"]): PipelineResult {
  return pipelineResult({ ok: failure === null, failure, user_id: "u", room_id: "r", elapsed_ms: 1 });
}

const spec: IterationSpec = {
  scenario: "s",
  vu: 1,
  iteration: 0,
  userID: "vu-1",
  roomID: "room-1",
  seat: { room: 0, slot: 1, role: "listener" },
  listenTo: null,
  masterID: "vu-0",
  song: { topID: "8888" },
  resource: { type: 2, quality: 0, vendorId: 0, billingMode: 0 },
  preferShared: false,
  seconds: 0.2,
  codec: "pcm",
  seed: 1,
  cacheDir: undefined,
};

function context(outcomes: PipelineResult["failure"][], calls: PipelineConfig[]): VuContext {
  const set = new MetricSet();
  return {
    target: "http://127.0.0.1:1",
    appID: 1,
    appSign: "0".repeat(64),
    client: async (config) => {
      calls.push(config);
      return result(outcomes.shift() ?? null);
    },
    rec: recorderOf(set),
  };
}

describe("pipeline VU: relogin backoff", () => {
  it("waits before the login that follows an overload refusal, not before others", async () => {
    const { waits, policy } = virtual(() => 0);
    const calls: PipelineConfig[] = [];
    const vu = createPipelineVu(
      context([login(1002030) as never, login(1002030) as never, null, null], calls),
      policy,
    );
    const signal = new AbortController().signal;
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await vu.iteration(spec, signal)).code);
    expect(codes).toEqual([1002030, 1002030, 0, 0]);
    // Before the 2nd login 250 ms, before the 3rd 500 ms; the 3rd went through: none before the 4th.
    expect(waits).toEqual([250, 500]);
    expect(calls).toHaveLength(4);
    await vu.close();
  });

  it("a VU stopped during its wait ends the iteration as aborted without logging in", async () => {
    const { waits, policy } = virtual();
    const calls: PipelineConfig[] = [];
    const vu = createPipelineVu(context([login(1002031) as never], calls), policy);
    await vu.iteration(spec, new AbortController().signal);
    const stop = new AbortController();
    stop.abort(new Error("ramp-down"));
    const out = await vu.iteration(spec, stop.signal);
    expect(out).toMatchObject({ ok: false, aborted: true });
    expect(waits).toHaveLength(1);
    expect(calls).toHaveLength(1);
  });
});
