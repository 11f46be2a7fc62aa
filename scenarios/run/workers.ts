import { Worker } from "node:worker_threads";
import type { Snapshot } from "../metrics/set.ts";
import type { ThreadSample } from "./generator.ts";
import type { FromWorker, ToWorker, WorkerInit } from "./messages.ts";

// The runner's worker threads (messages.ts): started together, flushed together every interval, stopped
// together. A flush collects every live worker's answer or gives up after a timeout; an answer that arrives
// late is not lost, it joins the next flush. A worker that crashes counts as done (its last samples are lost,
// and the crash is logged).

/** The tsx entry: the workers compile their TypeScript as they load (the fallback to the bundle). */
export const TSX_ENTRY = new URL("./worker-boot.mjs", import.meta.url);

interface Member {
  /** The worker's index (WorkerInit.index). */
  index: number;
  worker: Worker;
  ready: boolean;
  done: boolean;
  vus: number;
}

export interface PoolEvents {
  log(text: string): void;
  note(kind: string, data: unknown): void;
  /** A worker's health samples (generator.ts), as they arrive. */
  generator?(worker: number, samples: ThreadSample[]): void;
}

export class WorkerPool {
  private readonly members: Member[] = [];
  private pending: { seq: number; got: Set<number>; resolve: () => void } | null = null;
  /** Snapshots that arrived outside a flush (late answers, final ones): handed out with the next flush. */
  private stash: Snapshot[] = [];
  private readonly allDone: Promise<void>;
  private readyWaiters: (() => void)[] = [];
  private doneWaiters: (() => void)[] = [];

  constructor(
    inits: WorkerInit[],
    private readonly events: PoolEvents,
    /** The worker module: the run's bundle (worker-bundle.ts) or the tsx entry. */
    private readonly entry: URL = TSX_ENTRY,
  ) {
    for (const init of inits) this.spawn(init);
    this.allDone = new Promise((resolve) => this.doneWaiters.push(resolve));
  }

  get size(): number {
    return this.members.length;
  }

  private spawn(init: WorkerInit): void {
    const worker = new Worker(this.entry, { workerData: init, stdout: false, stderr: false });
    const m: Member = { index: init.index, worker, ready: false, done: false, vus: 0 };
    this.members.push(m);
    const i = this.members.length - 1;
    worker.on("message", (msg: FromWorker) => this.onMessage(i, msg));
    worker.on("error", (err) => {
      this.events.log(`worker ${init.index} crashed: ${err.stack ?? err.message}`);
      this.markDone(i);
    });
    worker.on("exit", (code) => {
      if (!m.done) this.events.log(`worker ${init.index} exited (code ${code}) before it was done`);
      this.markDone(i);
    });
  }

  private onMessage(i: number, msg: FromWorker): void {
    const m = this.members[i]!;
    switch (msg.type) {
      case "ready":
        m.ready = true;
        this.checkReady();
        break;
      case "metrics": {
        m.vus = msg.gauges.vus;
        if (msg.generator.length > 0) this.events.generator?.(m.index, msg.generator);
        this.stash.push(msg.snapshot);
        const p = this.pending;
        if (p && p.seq === msg.seq) {
          p.got.add(i);
          this.checkFlush();
        }
        break;
      }
      case "done":
        m.vus = 0;
        if (msg.generator.length > 0) this.events.generator?.(m.index, msg.generator);
        this.stash.push(msg.snapshot);
        this.markDone(i);
        break;
      case "log":
        this.events.log(msg.text);
        break;
      case "note":
        this.events.note(msg.kind, msg.data);
        break;
    }
  }

  private markDone(i: number): void {
    const m = this.members[i]!;
    if (m.done) return;
    m.done = true;
    m.ready = true;
    m.vus = 0;
    this.checkReady();
    this.checkFlush();
    if (this.members.every((x) => x.done)) for (const w of this.doneWaiters.splice(0)) w();
  }

  private checkReady(): void {
    if (this.members.every((m) => m.ready)) for (const w of this.readyWaiters.splice(0)) w();
  }

  private checkFlush(): void {
    const p = this.pending;
    if (p && this.members.every((m, i) => m.done || p.got.has(i))) p.resolve();
  }

  /** Resolves once every worker has loaded its VU code (or false after `timeoutMs`). */
  ready(timeoutMs: number): Promise<boolean> {
    if (this.members.every((m) => m.ready)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.readyWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  private post(m: ToWorker): void {
    for (const x of this.members) if (!x.done) x.worker.postMessage(m);
  }

  start(t0: number): void {
    this.post({ type: "start", t0 });
  }

  /** Asks every live worker for its samples; resolves with all that arrived (at most `timeoutMs` later). */
  async flush(seq: number, timeoutMs: number): Promise<{ snapshots: Snapshot[]; vus: number }> {
    if (this.members.some((m) => !m.done)) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, timeoutMs);
        function done() {
          clearTimeout(t);
          resolve();
        }
        this.pending = { seq, got: new Set(), resolve: done };
        this.post({ type: "flush", seq });
        this.checkFlush();
      });
      this.pending = null;
    }
    const snapshots = this.stash;
    this.stash = [];
    return { snapshots, vus: this.members.reduce((a, m) => a + m.vus, 0) };
  }

  stop(reason: string): void {
    this.post({ type: "stop", reason });
  }

  /** Resolves when every worker is done; false if `timeoutMs` passed first. */
  async whenDone(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const ok = await Promise.race([this.allDone.then(() => true), timeout]);
    clearTimeout(timer);
    return ok;
  }

  get finished(): boolean {
    return this.members.every((m) => m.done);
  }

  /** Final samples (the workers' "done" answers) not yet handed out. */
  takeStash(): Snapshot[] {
    const s = this.stash;
    this.stash = [];
    return s;
  }

  async terminate(): Promise<void> {
    await Promise.all(this.members.map((m) => m.worker.terminate().catch(() => 0)));
  }
}
