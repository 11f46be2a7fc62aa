import { Worker } from "node:worker_threads";
import type { SimOptions } from "../../simulator/options.ts";
import { threadCpuMs } from "./thread-cpu.ts";

// The simulator `ktv run` embeds, in a worker thread of its own. In the runner's main thread it shared one
// event loop with the per-second metric merge (100-450 ms busy stretches) and with the CDN's rendering, so
// every relayed media packet waited behind them: smoke e2e media latency p95 175 ms embedded against 19 ms
// with the same simulator in a separate process. The runner talks to it over HTTP only (health, admin,
// ledger), so the thread needs nothing but its URL and a way to close it.
//
// The thread posts `listening` with the URL, or `failed` with the simulator's error message; `close` flushes
// and closes the simulator (the ledger, every socket) and the thread exits on its own. A thread that dies
// any other way is reported through onCrash, never silently.

const BOOT = new URL("./embedded-simulator-boot.mjs", import.meta.url);

/**
 * What the thread accepts: the simulator's options minus the clock and a log stream (functions and streams do
 * not cross threads; the thread's log goes to this process's stdout).
 */
export type EmbeddedSimOptions = Omit<Partial<SimOptions>, "clock" | "logStream">;

export interface EmbeddedStart extends EmbeddedSimOptions {
  /** The thread died or exited without being asked to (after start-up); default: ignored. */
  onCrash?(why: string): void;
  /** Another thread body speaking the same messages (tests of the crash path); default: the simulator. */
  entry?: URL;
}

export type FromSimThread =
  | { type: "listening"; url: string; socketPath: string | null; tid?: number | null }
  | { type: "failed"; message: string }
  | { type: "closed"; error?: string };

export type ToSimThread = { type: "close" };

export interface EmbeddedSimulator {
  /** Base URL once listening, e.g. http://127.0.0.1:7400 */
  url: string;
  /** The Unix domain socket it also serves (options.socketPath), or null. */
  socketPath: string | null;
  /**
   * The simulator thread's event-loop utilisation since the previous call (0..1): the target's own load, read
   * from this thread without a message (worker.performance).
   */
  utilisation(): number;
  /** The simulator thread's user + system CPU so far, ms (null: no /proc, or a thread body that gave no tid). */
  cpuMs(): number | null;
  /** Closes the simulator and waits for its thread to exit; rejects with the simulator's close error. */
  close(): Promise<void>;
}

/** After `close`, the thread gets this long to exit before it is terminated. */
const EXIT_GRACE_MS = 10_000;
/** Loading the simulator (tsx compiles it in the thread) took up to 8 s on the loaded 2-core machine. */
const START_TIMEOUT_MS = 60_000;

export class EmbeddedSimulatorError extends Error {
  override name = "EmbeddedSimulatorError";
}

/** Starts the simulator in a worker thread; resolves once it listens, rejects with its start-up error. */
export function startEmbeddedSimulator(start: EmbeddedStart): Promise<EmbeddedSimulator> {
  const { onCrash, entry, ...options } = start;
  const worker = new Worker(entry ?? BOOT, { workerData: options satisfies EmbeddedSimOptions });
  let closing = false;
  let exited = false;
  /** The thread threw: it is exiting, and its crash was reported (once). */
  let crashed = false;
  const exit = new Promise<number>((resolve) => worker.once("exit", resolve));
  let closed: ((error?: string) => void) | null = null;
  let closeOnce: Promise<void> | null = null;

  return new Promise<EmbeddedSimulator>((resolve, reject) => {
    let started = false;
    const startTimer = setTimeout(
      () => fail(`no answer from its thread within ${START_TIMEOUT_MS / 1000} s`),
      START_TIMEOUT_MS,
    );
    const fail = (why: string) => {
      clearTimeout(startTimer);
      if (!started) {
        started = true;
        reject(new EmbeddedSimulatorError(`the embedded simulator did not start: ${why}`));
        void worker.terminate();
      } else if (!closing && !crashed) {
        // An error is followed by an exit: one report, the one that says why.
        crashed = true;
        onCrash?.(`the embedded simulator ${why}`);
      }
    };
    worker.on("message", (msg: FromSimThread) => {
      if (msg.type === "listening" && !started) {
        started = true;
        clearTimeout(startTimer);
        let elu = worker.performance.eventLoopUtilization();
        const utilisation = () => {
          const now = worker.performance.eventLoopUtilization();
          const d = worker.performance.eventLoopUtilization(now, elu);
          elu = now;
          return Number.isFinite(d.utilization) ? d.utilization : 0;
        };
        const tid = msg.tid ?? null;
        const cpuMs = () => threadCpuMs(tid);
        resolve({ url: msg.url, socketPath: msg.socketPath ?? null, utilisation, cpuMs, close });
      } else if (msg.type === "failed") fail(msg.message);
      else if (msg.type === "closed") closed?.(msg.error);
    });
    worker.on("error", (err) => {
      fail(`crashed: ${err.stack ?? err.message}`);
      crashed = true;
    });
    worker.once("exit", (code) => {
      exited = true;
      if (!closing) fail(`exited (code ${code})`);
      closed?.("the simulator thread exited while closing");
    });
  });

  function close(): Promise<void> {
    closeOnce ??= closeThread();
    return closeOnce;
  }

  async function closeThread(): Promise<void> {
    closing = true;
    if (crashed) await exit;
    if (exited) return;
    const error = await new Promise<string | undefined>((resolve) => {
      closed = resolve;
      worker.postMessage({ type: "close" } satisfies ToSimThread);
    });
    // The thread exits once its event loop is empty; a handle left open must not hold up the runner.
    let stuck = false;
    const timer = setTimeout(() => {
      stuck = true;
      void worker.terminate();
    }, EXIT_GRACE_MS);
    await exit;
    clearTimeout(timer);
    if (error) throw new EmbeddedSimulatorError(`closing the embedded simulator: ${error}`);
    if (stuck)
      throw new EmbeddedSimulatorError(
        `the embedded simulator's thread still had open handles ${EXIT_GRACE_MS / 1000} s after closing; terminated`,
      );
  }
}
