import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Simulator } from "../../simulator/app.ts";
import { testSimulator } from "../../test/sim.ts";
import { until } from "../engine/test-fixtures.ts";
import type { PipelineEvent } from "./events.ts";
import type { PipelineResult } from "./result.ts";
import { runPipeline } from "./run.ts";
import { userConfig } from "./test-fixtures.ts";

// A load worker's VUs keep no histogram of their own (issue 10: "histograms per worker, not per VU"): with
// `histograms: false` a run records its packets through onReceivedPacket into the worker's one trend, and one
// listener-latency histogram per run was 68 KB of every VU. Counted at the source: every histogram
// hdr-histogram-js builds in this process goes through `build`; the ones the client's code builds (not the
// simulator's, which runs in this process too and keeps its own per stream) are the ones counted.

const clientBuilds: string[] = [];
vi.mock("hdr-histogram-js", async (importOriginal) => {
  const real = await importOriginal<typeof import("hdr-histogram-js")>();
  return {
    ...real,
    build: (...args: Parameters<typeof real.build>) => {
      const stack = new Error().stack ?? "";
      if (!stack.includes("/simulator/")) clientBuilds.push(stack.split("\n").slice(2, 4).join(" "));
      return real.build(...args);
    },
  };
});

let sim: Simulator;

beforeAll(async () => {
  sim = await testSimulator();
});
afterAll(async () => {
  await sim.close();
});

/** A singer and a listener of one room, run as a load worker's VUs run them (or with their own histograms). */
async function pair(
  room: string,
  histograms: boolean,
): Promise<{ singer: PipelineResult; listener: PipelineResult }> {
  let singerLive = false;
  const singerRun = runPipeline(
    userConfig(sim.url, `${room}-s`, {
      roomID: room,
      seconds: 1.5,
      histograms,
      onEvent: (e: PipelineEvent) => {
        if (e.type === "publishing") singerLive = true;
      },
    }),
  );
  await until(() => singerLive, "the singer to publish", 10_000);
  const listener = await runPipeline(
    userConfig(sim.url, `${room}-l`, {
      roomID: room,
      preferShared: true,
      publish: false,
      listen: [`${room}-s_main`],
      seconds: 0.6,
      histograms,
      onReceivedPacket: () => {},
    }),
  );
  const singer = await singerRun;
  expect(singer.ok, JSON.stringify(singer.failure)).toBe(true);
  expect(listener.ok, JSON.stringify(listener.failure)).toBe(true);
  expect(listener.listen!.streams[`${room}-s_main`]!.frames).toBeGreaterThan(0);
  return { singer, listener };
}

describe("histograms per run", () => {
  it("a load run's VUs make none: after the thread's own, more VUs build no histogram", async () => {
    // The first pair makes what the thread shares (the frame ticker's histograms): made once per thread.
    await pair("hist-warm", false);
    clientBuilds.length = 0;
    await pair("hist-a", false);
    await pair("hist-b", false);
    expect(clientBuilds).toEqual([]);
  });

  it("a run that keeps its own histograms still makes and reports them", async () => {
    clientBuilds.length = 0;
    const { singer, listener } = await pair("hist-own", true);
    // The singer's clock (lateness, cost) and the listener's latency, each made for this run.
    expect(clientBuilds.length).toBe(3);
    expect(singer.histograms.mix_lateness).not.toBeNull();
    const heard = listener.listen!.streams["hist-own-s_main"]!.frames;
    expect(listener.listen!.latency_ms!.count).toBe(heard);
    expect(listener.histograms.listen_latency).not.toBeNull();
  });
});
