import type { AudioArenaHandle } from "../../reference/audio/shared-arena.ts";
import type { Snapshot } from "../metrics/set.ts";
import type { ResolvedScenario } from "../resolve.ts";
import type { ThreadSample } from "./generator.ts";
import type { PoolSong } from "./population.ts";

// The conversation between the runner (main thread) and its worker threads:
//   main -> worker   start {t0}           begin the schedule; t0 is the run's start, epoch ms
//   main -> worker   flush {seq}          send what was recorded since the last flush
//   main -> worker   stop {reason}        abort every iteration now (SIGINT, abortOnFail, time limit)
//   worker -> main   ready                VU code loaded, waiting for start
//   worker -> main   metrics {seq, ...}   the answer to a flush (with the thread's health samples since the last)
//   worker -> main   done {...}           the schedule is over (or stopped); the final samples
//   worker -> main   log {text}           a line for the runner's stderr (a VU's unexpected exception)
//   worker -> main   note {kind, data}    a record for summary.json (a conformance verdict)

export interface WorkerInit {
  index: number;
  workers: number;
  /** Nice value the worker thread lowers itself to before "ready" (runner.ts workerNice); 0: unchanged. */
  nice?: number;
  scenario: ResolvedScenario;
  target: string;
  /** The embedded simulator's Unix domain socket for media (scenario media.transport "unix"), or null. */
  mediaSocket: string | null;
  appID: number;
  appSign: string;
  /** The app's server secret: VUs mint token04 with it when the scenario logs in by token (`ktv.auth`). */
  tokenSecret?: string;
  seed: number;
  /** Prefix of user and room ids. */
  prefix: string;
  pool: PoolSong[];
  /** ktv.mix: a pool per (vendor, type) the mix draws, by `poolKey` (mix.ts); absent without a mix. */
  pools?: Record<string, PoolSong[]>;
  /** Per shared-iterations executor (by name), one Int32 cell: the next iteration to take. */
  sharedCounters: Record<string, SharedArrayBuffer>;
  /**
   * The process's shared audio memory (reference/audio/shared-arena.ts), when the scenario shares audio: the
   * worker makes it its threads' default (useProcessAudio), so songs and voices render once per process.
   */
  audioArena?: AudioArenaHandle;
  /** Root of the VUs' caches (cache "vu"). */
  cacheRoot: string;
  /** A module whose default export replaces the reference pipeline as the client under test (--client). */
  clientModule: string | null;
  /**
   * True when the worker runs from the esbuild bundle (worker-bundle.ts) instead of under tsx: it registers
   * tsx itself before importing a TypeScript client module. Absent: false.
   */
  bundled?: boolean;
}

export type ToWorker =
  | { type: "start"; t0: number }
  | { type: "flush"; seq: number }
  | { type: "stop"; reason: string };

export interface Gauges {
  /** VUs active now: looping (closed model) or running an iteration (open model). */
  vus: number;
}

export type FromWorker =
  | { type: "ready" }
  | { type: "metrics"; seq: number; snapshot: Snapshot; gauges: Gauges; generator: ThreadSample[] }
  | { type: "done"; snapshot: Snapshot; gauges: Gauges; generator: ThreadSample[] }
  | { type: "log"; text: string }
  | { type: "note"; kind: string; data: unknown };
