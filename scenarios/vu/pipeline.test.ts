import { build, encodeIntoCompressedBase64, type Histogram } from "hdr-histogram-js";
import { describe, expect, it } from "vitest";
import type { Percentiles } from "../../reference/mixer/clock.ts";
import { emptyPhases, emptyStages, type PipelineResult } from "../../reference/pipeline/result.ts";
import { pipelineResult } from "../../reference/pipeline/test-fixtures.ts";
import { SUMMARY_TRENDS } from "../metrics/catalog.ts";
import { quantiles } from "../metrics/hdr.ts";
import { MetricSet } from "../metrics/set.ts";
import { summaryMetrics } from "../run/series.ts";
import { recorderOf } from "../test-helpers.ts";
import { pipelineConfig, recordResult, threadAudio } from "./pipeline.ts";
import type { IterationSpec, VuContext } from "./types.ts";

// A pipeline run's mixer clock goes into the run's metrics from the run's own histograms, so the merged
// percentiles are those of every frame, not an estimate from each run's p50/p90/p99/max.

/** A µs histogram like the FrameClock's, holding `values` as [µs, count]. */
function clockHistogram(values: [number, number][]): Histogram {
  const h = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  for (const [us, n] of values) h.recordValueWithCount(us, n);
  return h;
}

function percentiles(h: Histogram, scale: number): Percentiles {
  const at = (p: number) => h.getValueAtPercentile(p) / scale;
  return { p50: at(50), p90: at(90), p99: at(99), max: h.maxValue / scale, mean: h.mean / scale };
}

/** A singer's result whose clock recorded `lateness` and `cost` (µs), summarised as the pipeline does. */
function singerRun(lateness: [number, number][], cost: [number, number][]): PipelineResult {
  const late = clockHistogram(lateness);
  const spent = clockHistogram(cost);
  return pipelineResult({
    publish: {
      stream_id: "u_main",
      seconds: late.totalCount / 100,
      frames_mixed: late.totalCount,
      packets_sent: late.totalCount / 2,
      packets_dropped: 0,
      codec: "pcm",
      bytes_sent: (late.totalCount / 2) * 3872,
      reconnects: 0,
    },
    mix: {
      frames: late.totalCount,
      late_frames: 0,
      elapsed_ms: late.totalCount * 10,
      lateness_ms: percentiles(late, 1000),
      mix_cost_us: percentiles(spent, 1),
    },
    listen: null,
    histograms: {
      unit: "us",
      mix_lateness: encodeIntoCompressedBase64(late),
      mix_cost: encodeIntoCompressedBase64(spent),
      listen_latency: null,
    },
    elapsed_ms: 1,
  });
}

describe("pipeline VU: the mixer clock in the run's metrics", () => {
  it("merges two runs' clock histograms across workers into the exact percentiles of every frame", () => {
    const runs = [
      singerRun(
        [
          [100, 980],
          [1000, 15],
          [1900, 5],
        ],
        [
          [150, 900],
          [1800, 100],
        ],
      ),
      singerRun(
        [
          [200, 990],
          [1500, 10],
        ],
        [[400, 1000]],
      ),
    ];
    // Each run in its own worker's set, sent encoded and added on the main thread, as the runner does.
    const total = new MetricSet();
    for (const r of runs) {
      const worker = new MetricSet();
      recordResult(recorderOf(worker), r, true);
      total.merge(worker.drain());
    }
    const summary = summaryMetrics(total, false);

    // 2000 frames: 980 at 0.1 ms, 990 at 0.2, 15 at 1.0, 10 at 1.5, 5 at 1.9. (The old estimate from each
    // run's percentiles put 90 of run 1's frames at its p99 and said p95 = 1.0 ms.)
    expect(summary.mix_lateness_ms).toEqual({
      count: 2000,
      min: 0.1,
      mean: 0.168,
      p50: 0.2,
      p90: 0.2,
      p95: 0.2,
      p99: 1,
      p999: 1.9,
      max: 1.9,
    });
    expect(total.counter("mix_frames")).toBe(2000);

    // mix_cost_us is kept at the runner's resolution (ns, 3 significant digits): the same summary as a worker
    // recording every frame's cost itself.
    const worker = new MetricSet();
    worker.record("mix_cost_us", 150, 900);
    worker.record("mix_cost_us", 1800, 100);
    worker.record("mix_cost_us", 400, 1000);
    const direct = new MetricSet();
    direct.merge(worker.drain());
    expect(summary.mix_cost_us).toEqual(quantiles(direct.trends.get("mix_cost_us")));
    expect(summary.mix_cost_us!.count).toBe(2000);
    expect(summary.mix_cost_us!.p50).toBeCloseTo(400, -0.5);
    expect(summary.mix_cost_us!.p95).toBeCloseTo(400, -0.5);
    expect(summary.mix_cost_us!.p99).toBeCloseTo(1800, -1);
  });

  it("records no mixer trend for a run that did not publish", () => {
    const set = new MetricSet();
    const r = singerRun([[100, 10]], [[150, 10]]);
    recordResult(recorderOf(set), { ...r, publish: null, mix: null }, false);
    expect(set.trends.size).toBe(0);
    expect(set.counter("mix_frames")).toBe(0);
  });
});

describe("pipeline VU: where an iteration's time goes", () => {
  it("records login and init, and each reached phase of pick_to_first_packet under its own tag", () => {
    const set = new MetricSet();
    const phases = { ...emptyPhases(), request: 4, first_byte: 9, download_done: 30, first_packet: 52 };
    const stages = { ...emptyStages(), login_ms: 7, init_ms: 3 };
    recordResult(recorderOf(set), pipelineResult({ stages, phases }), true);
    expect(quantiles(set.trends.get("login_ms"))).toMatchObject({ count: 1, p50: 7 });
    expect(quantiles(set.trends.get("init_ms"))).toMatchObject({ count: 1, p50: 3 });
    expect(quantiles(set.trends.get("pick_phase_ms{phase:first_byte}"))).toMatchObject({ count: 1, p50: 9 });
    expect(quantiles(set.trends.get("pick_phase_ms{phase:first_packet}"))).toMatchObject({
      count: 1,
      p50: 52,
    });
    // A phase not reached records nothing; nor do stages not run (a VU that kept its login).
    expect(set.trends.has("pick_phase_ms{phase:loaded}")).toBe(false);
    const kept = new MetricSet();
    recordResult(recorderOf(kept), pipelineResult({ phases }), true);
    expect(kept.trends.has("login_ms")).toBe(false);
    expect(kept.trends.has("init_ms")).toBe(false);
  });

  it("records pick_to_first_packet_ms, and takes a --client module's former pick_to_audio_ms for it", () => {
    const set = new MetricSet();
    const stages = { ...emptyStages(), pick_to_first_packet_ms: 61 };
    recordResult(recorderOf(set), pipelineResult({ stages }), true);
    expect(quantiles(set.trends.get("pick_to_first_packet_ms"))).toMatchObject({ count: 1, p50: 61 });
    const old = new MetricSet();
    // A client written before the rename: its stages have only the old field.
    const { pick_to_first_packet_ms: _, ...before } = { ...emptyStages(), pick_to_audio_ms: 75 };
    recordResult(recorderOf(old), pipelineResult({ stages: before as PipelineResult["stages"] }), true);
    expect(quantiles(old.trends.get("pick_to_first_packet_ms"))).toMatchObject({ count: 1, p50: 75 });
    expect(old.trends.has("pick_to_audio_ms")).toBe(false);
    expect(SUMMARY_TRENDS as readonly string[]).toContain("pick_to_first_packet_ms");
  });

  it("every phase's series is in summary.json", () => {
    for (const phase of Object.keys(emptyPhases())) {
      expect(SUMMARY_TRENDS as readonly string[]).toContain(`pick_phase_ms{phase:${phase}}`);
    }
  });
});

describe("pipeline VU: media on the wire", () => {
  it("counts the bytes the publisher measured, and each listened stream's packets, loss and jitter", () => {
    const set = new MetricSet();
    const r = singerRun([[100, 10]], [[150, 10]]);
    recordResult(
      recorderOf(set),
      { ...r, publish: { ...r.publish!, codec: "opus", bytes_sent: 17_321 } },
      true,
    );
    expect(set.counter("media_bytes_published")).toBe(17_321);
    const listener = pipelineResult({
      listen: {
        streams: {
          a: { frames: 98, bytes: 34_000, lost: 2, reordered: 1, jitter_ms: 0.75, discontinuities: 0 },
          b: { frames: 1, bytes: 360, lost: 0, reordered: 0, jitter_ms: 0, discontinuities: 0 },
        },
        latency_ms: null,
      },
    });
    recordResult(recorderOf(set), listener, false);
    expect(set.counter("media_packets_received")).toBe(99);
    expect(set.counter("media_packets_lost")).toBe(2);
    expect(set.counter("media_packets_reordered")).toBe(1);
    // One packet has no interarrival jitter: only stream a counts.
    expect(quantiles(set.trends.get("media_jitter_ms"))).toMatchObject({ count: 1, p50: 0.75 });
  });
});

describe("pipeline VU: how it makes its audio", () => {
  const spec = (audio?: IterationSpec["audio"], cacheDir?: string): IterationSpec => ({
    scenario: "s",
    vu: 1,
    iteration: 0,
    userID: "u",
    roomID: "r",
    seat: { room: 0, slot: 0, role: "singer" },
    listenTo: null,
    song: { songID: "1" },
    resource: { type: 1, quality: 0, vendorId: 0, billingMode: 0 },
    preferShared: false,
    seconds: 1,
    seed: 7,
    cacheDir,
    codec: "pcm",
    masterID: "u",
    ...(audio ? { audio } : {}),
  });
  const ctx = {
    target: "http://127.0.0.1:1",
    appID: 1,
    appSign: "a",
    rec: recorderOf(new MetricSet()),
  } as VuContext;

  it("without scenario audio options: per-VU audio, downloads on disk, as before", () => {
    const c = pipelineConfig(ctx, spec(undefined, "/tmp/vu1"));
    expect(c.cacheDir).toBe("/tmp/vu1");
    expect([c.memoryCache, c.sharedAudio, c.voiceProfiles]).toEqual([undefined, undefined, undefined]);
    // Load runs keep no per-run histograms: the worker records frames from the ticker, packets as they come.
    expect(c.histograms).toBe(false);
  });

  it("writes its packets pre-framed and reads relayed ones before ws, singer and listener alike", () => {
    const singer = pipelineConfig(ctx, spec(undefined, "/tmp/vu1"));
    const listener = pipelineConfig(ctx, {
      ...spec(undefined, "/tmp/vu1"),
      seat: { room: 0, slot: 1, role: "listener" },
    });
    for (const c of [singer, listener])
      expect(c.mediaSocket).toEqual({ framedWrites: true, readPackets: true });
  });

  it("memory cache, the thread's shared audio (one per thread) and voice profiles when asked", () => {
    const c = pipelineConfig(ctx, spec({ memoryCache: true, shared: true, voiceProfiles: 4 }, "/tmp/vu1"));
    expect(c.cacheDir).toBeUndefined();
    expect(c.memoryCache).toBe(true);
    expect(c.voiceProfiles).toBe(4);
    expect(c.sharedAudio).toBe(threadAudio());
    const own = threadAudio();
    const c2 = pipelineConfig(
      { ...ctx, audio: own },
      spec({ memoryCache: false, shared: true, voiceProfiles: 0 }),
    );
    expect(c2.sharedAudio).toBe(own);
    expect(c2.memoryCache).toBeUndefined();
  });
});
