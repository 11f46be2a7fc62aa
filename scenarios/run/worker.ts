import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";
import { useProcessAudio } from "../../reference/audio/index.ts";
import { threadTicker } from "../../reference/mixer/ticker.ts";
import { observeVendorAttempts } from "../../reference/music/transport.ts";
import { runPipeline } from "../../reference/pipeline/run.ts";
import { MetricSet } from "../metrics/set.ts";
import { VendorRouteMeter } from "../metrics/vendor-routes.ts";
import { VU_KINDS } from "../vu/index.ts";
import type { ClientFn } from "../vu/types.ts";
import { unboundedController } from "./clock.ts";
import { recordSample, type ThreadSample, ThreadSampler, TimerLag } from "./generator.ts";
import type { FromWorker, ToWorker, WorkerInit } from "./messages.ts";
import { WorkerSchedule } from "./schedule.ts";
import { niceThisThread } from "./thread-cpu.ts";
import { tickerSink } from "./ticker-metrics.ts";
import { warmUpThread } from "./warm-up.ts";

// A worker thread of `ktv run`: runs its share of the VUs (schedule.ts) and answers the runner's flushes with
// what it recorded since the last one. It ends after sending "done" (schedule over, or stopped). From the start
// on it samples its own health every second (generator.ts): into its metrics, and raw with each answer.

const init = workerData as WorkerInit;
if (init.audioArena) useProcessAudio(init.audioArena);
const port = parentPort!;
const send = (m: FromWorker) => port.postMessage(m);
const metrics = new MetricSet();
const stop = unboundedController();
let finished = false;
let sampler: ThreadSampler | null = null;
let sampleTimer: NodeJS.Timeout | null = null;
const samples: ThreadSample[] = [];
const SAMPLE_MS = 1000;

/**
 * A VU of this thread has run (samples before are the thread's boot, saturation.ts): seen as a VU active at a
 * sample, or as an iteration calling the client (an open model's short iterations may fall between samples).
 */
let loaded = false;

function takeSample(): void {
  if (!sampler) return;
  const s = sampler.sample();
  loaded ||= schedule.activeVus > 0;
  if (!loaded) s.boot = true;
  recordSample(metrics, s, false);
  samples.push(s);
}

function startSampling(): void {
  sampler = new ThreadSampler(new TimerLag());
  sampleTimer = setInterval(takeSample, SAMPLE_MS);
  sampleTimer.unref();
}

function stopSampling(): void {
  if (sampleTimer) clearInterval(sampleTimer);
  takeSample();
  sampler?.close();
  sampler = null;
}

async function loadClient(): Promise<ClientFn> {
  const inner = await importClient();
  return (config, signal) => {
    loaded = true;
    return inner(config, signal);
  };
}

async function importClient(): Promise<ClientFn> {
  if (!init.clientModule) return runPipeline;
  // The bundled worker has no TypeScript loader; a partner's module in TypeScript gets one, for itself.
  if (init.bundled && /\.[cm]?tsx?$/.test(init.clientModule)) {
    const { register } = await import("tsx/esm/api");
    register();
  }
  const mod = (await import(pathToFileURL(init.clientModule).href)) as { default?: unknown };
  if (typeof mod.default !== "function") {
    throw new Error(`${init.clientModule}: the default export must be a function (config, signal) => result`);
  }
  return mod.default as ClientFn;
}

const schedule = new WorkerSchedule(
  init,
  metrics,
  VU_KINDS[init.scenario.vu],
  stop.signal,
  await loadClient(),
  {
    log: (text) => send({ type: "log", text }),
    note: (kind, data) => send({ type: "note", kind, data }),
  },
);

const mixSink = tickerSink(metrics);
// Every vendor attempt of this thread's clients, by route (a client module of its own reports nothing here).
const vendorRoutes = new VendorRouteMeter();
observeVendorAttempts(vendorRoutes.record);

/** Everything recorded since the last answer, the thread's mixer frames included. */
function drain() {
  threadTicker().drainTo(mixSink);
  vendorRoutes.drainTo(metrics);
  return metrics.drain();
}

port.on("message", (m: ToWorker) => {
  if (m.type === "flush") {
    send({
      type: "metrics",
      seq: m.seq,
      snapshot: drain(),
      gauges: { vus: schedule.activeVus },
      generator: samples.splice(0),
    });
  } else if (m.type === "stop") {
    stop.abort(new Error(m.reason));
  } else if (m.type === "start") {
    startSampling();
    schedule
      .run(m.t0)
      .catch((err: unknown) => send({ type: "log", text: `worker ${init.index}: ${String(err)}` }))
      .finally(() => {
        finished = true;
        stopSampling();
        send({ type: "done", snapshot: drain(), gauges: { vus: 0 }, generator: samples.splice(0) });
      });
  }
});

process.on("unhandledRejection", (err) => {
  if (!finished) send({ type: "log", text: `worker ${init.index}: unhandled rejection: ${String(err)}` });
});

warmUpThread(init.scenario);
if (init.nice) {
  const why = niceThisThread(init.nice);
  if (why) send({ type: "log", text: `worker ${init.index}: could not lower its priority: ${why}` });
}
send({ type: "ready" });
