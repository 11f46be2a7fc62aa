import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { ExecutorPlan } from "../load/executors/types.ts";
import { vusAt } from "../load/plan.ts";
import type { MetricSet } from "../metrics/set.ts";
import { planOf } from "../resolve.ts";
import type { ClientFn, IterationOutcome, IterationSpec, Recorder, Vu, VuFactory } from "../vu/types.ts";
import { deadlineController, epochNow, sleepUntil } from "./clock.ts";
import { unitDraw } from "./hash.ts";
import type { WorkerInit } from "./messages.ts";
import { drawVariant, poolKey } from "./mix.ts";
import {
  type Population,
  prefersShare,
  resolvePopulation,
  roomID,
  SongPicker,
  seatOfUser,
  streamOf,
} from "./population.ts";

// Runs this worker's share of every executor's plan (load/executors): the runner's equivalent of k6's
// Executor.Run. The share is fixed from the config alone, like k6's execution segments: in the closed model a
// VU lives on the worker of its room (room mod W, whole rooms per worker) when there are at least W rooms, else
// on worker j mod W; open-model arrivals the same way by their seat's room (workerOfArrival). By room, not j mod W: with 4 users per room and 2 workers, j mod W put every singer (seat
// 0, j = 4r) on worker 0, which then did all the mixing and publishing while worker 1 idled (profiled at 200
// VUs: one worker saturated, the other 70% idle). An open-model executor's VU pool is split over W' = min(W,
// maxVUs) workers (shareOf), so no worker gets arrivals without a VU.
//
// Every iteration is timed here: iterations, errors, iteration_duration_ms, ttfa_ms and, in the open model,
// the same two measured from the intended start ({corrected:true}). A VU that runs past the executor's end
// gets gracefulStop to finish, then its signal aborts (interrupted_iterations).

/** The worker (of W) that runs closed-model VU `vuId`: its room's, or vuId mod W when rooms are too few. */
export function workerOfVu(vuId: number, pop: Population, W: number): number {
  return pop.rooms >= W ? seatOfUser(vuId, pop).room % W : vuId % W;
}

/**
 * The worker (of W') that runs open-model arrival `i`: its seat's room's, as for closed-model VUs, or i mod W'
 * when rooms are too few. i mod W' alone put every singer arrival on worker 0 (seat 0 of each room is an even
 * arrival when rooms have an even number of seats).
 */
export function workerOfArrival(i: number, pop: Population, W: number): number {
  return pop.rooms >= W ? seatOfUser(i % (pop.rooms * pop.usersPerRoom), pop).room % W : i % W;
}

/** Cells of k6's execution segment: how many of n items worker w of W gets. */
export function shareOf(n: number, workers: number, w: number): number {
  return Math.floor(n / workers) + (w < n % workers ? 1 : 0);
}

export class WorkerSchedule {
  /** VUs active now (for the progress line and the time series). */
  activeVus = 0;
  private readonly pop: Population;
  private readonly songs: SongPicker;
  /** ktv.mix: a song picker per (vendor, type) pool. */
  private readonly mixSongs = new Map<string, SongPicker>();
  private readonly rec: Recorder;
  private readonly vus: Vu[] = [];

  constructor(
    private readonly init: WorkerInit,
    private readonly metrics: MetricSet,
    private readonly factory: VuFactory,
    private readonly stop: AbortSignal,
    private readonly client: ClientFn,
    private readonly out: { log: (text: string) => void; note: (kind: string, data: unknown) => void },
  ) {
    const plan = planOf(init.scenario);
    this.pop = resolvePopulation(init.scenario, plan.maxVUs);
    const s = init.scenario.songs;
    this.songs = new SongPicker(init.pool, init.seed, s.zipf, s.searchMix);
    for (const [key, pool] of Object.entries(init.pools ?? {})) {
      this.mixSongs.set(key, new SongPicker(pool, init.seed, s.zipf, s.searchMix));
    }
    this.rec = {
      record: (m, v, c) => metrics.record(m, v, c),
      add: (c, n) => metrics.add(c, n),
      error: (code, n) => metrics.error(code, n),
      rate: (k, hit) => metrics.rate(k, hit),
      note: (kind, data) => out.note(kind, data),
    };
  }

  /** Runs every executor from the run's start `t0` (epoch ms); resolves when all are over. */
  async run(t0: number): Promise<void> {
    const plan = planOf(this.init.scenario);
    let offset = 0;
    const runs: Promise<void>[] = [];
    for (const p of plan.scenarios) {
      runs.push(p.model === "open" ? this.runOpen(p, t0, offset) : this.runClosed(p, t0, offset));
      offset += p.maxVUs;
    }
    await Promise.all(runs);
    await Promise.all(this.vus.map((v) => v.close().catch(() => {})));
  }

  private newVu(): Vu {
    const vu = this.factory({
      target: this.init.target,
      ...(this.init.mediaSocket ? { mediaSocket: this.init.mediaSocket } : {}),
      appID: this.init.appID,
      appSign: this.init.appSign,
      ...(this.init.tokenSecret ? { tokenSecret: this.init.tokenSecret } : {}),
      rec: this.rec,
      client: this.client,
    });
    this.vus.push(vu);
    return vu;
  }

  // ---- closed model -----------------------------------------------------------------------------------

  private async runClosed(p: ExecutorPlan, t0: number, offset: number): Promise<void> {
    const { index: w, workers: W } = this.init;
    const start = t0 + p.startMs;
    const end = start + p.durationMs;
    const hard = deadlineController(end + p.gracefulStopMs, this.stop, "graceful stop is over");
    await sleepUntil(start, this.stop);
    const loops: Promise<void>[] = [];
    for (let j = 0; j < p.maxVUs; j++)
      if (workerOfVu(offset + j, this.pop, W) === w)
        loops.push(this.closedVu(p, j, offset + j, start, end, hard.signal));
    await Promise.all(loops);
    hard.abort();
  }

  private async closedVu(
    p: ExecutorPlan,
    j: number,
    vuId: number,
    start: number,
    end: number,
    hard: AbortSignal,
  ): Promise<void> {
    const vu = this.newVu();
    const counter =
      p.iterations && "total" in p.iterations ? new Int32Array(this.init.sharedCounters[p.name]!) : null;
    let active = false;
    const setActive = (on: boolean) => {
      if (on !== active) this.activeVus += on ? 1 : -1;
      active = on;
    };
    try {
      for (let n = 0; ; n++) {
        if (hard.aborted || epochNow() >= end) break;
        if (p.executor === "ramping-vus") {
          const at = nextActive(p, j, epochNow() - start);
          if (at === null) break;
          if (at > epochNow() - start) {
            setActive(false);
            await sleepUntil(start + at, hard);
            if (hard.aborted || epochNow() >= end) break;
          }
        }
        if (p.iterations && "perVu" in p.iterations && n >= p.iterations.perVu) break;
        // shared-iterations: the iteration's number is the one taken from the shared counter.
        const claimed = counter ? Atomics.add(counter, 0, 1) : n;
        if (counter && claimed >= (p.iterations as { total: number }).total) break;
        setActive(true);
        const iterationSignal = this.rampDownSignal(p, j, start, hard);
        await this.iterate(vu, this.closedSpec(p, vuId, claimed, n), iterationSignal.signal, null);
        iterationSignal.abort();
      }
    } finally {
      setActive(false);
    }
  }

  /** The iteration's signal: the executor's hard stop, and for ramping-vus the ramp-down grace of VU j. */
  private rampDownSignal(p: ExecutorPlan, j: number, start: number, hard: AbortSignal): AbortController {
    if (p.executor !== "ramping-vus") return deadlineController(Number.POSITIVE_INFINITY, hard, "");
    const off = nextInactive(p, j, epochNow() - start);
    const at = off === null ? Number.POSITIVE_INFINITY : start + off + p.gracefulRampDownMs;
    return deadlineController(at, hard, "ramped down");
  }

  /** `iteration`: the VU's own count, or the shared counter's number; `round`: the VU's own count. */
  private closedSpec(p: ExecutorPlan, vuId: number, iteration: number, round: number): IterationSpec {
    const seat = seatOfUser(vuId, this.pop);
    const userID = `${this.init.prefix}-v${vuId}`;
    const first = seat.room * this.pop.usersPerRoom;
    const owner = `${this.init.prefix}-v${first}`;
    return this.spec(p, vuId, iteration, userID, seat, round, vuId, owner === userID ? null : owner, owner);
  }

  // ---- open model -------------------------------------------------------------------------------------

  private async runOpen(p: ExecutorPlan, t0: number, offset: number): Promise<void> {
    const { index: w, workers: W } = this.init;
    const arrivals = p.arrivals!;
    const Wp = Math.min(W, p.maxVUs);
    if (w >= Wp) return;
    const start = t0 + p.startMs;
    const end = start + p.durationMs;
    const hard = deadlineController(end + p.gracefulStopMs, this.stop, "graceful stop is over");
    const maxVus = shareOf(p.maxVUs, Wp, w);
    const idle: { vu: Vu; id: number }[] = [];
    let allocated = 0;
    const backlog: { i: number; intended: number }[] = [];
    const running = new Set<Promise<void>>();
    const maxWait = this.init.scenario.maxStartDelayMs;

    const take = (): { vu: Vu; id: number } | null => {
      const free = idle.pop();
      if (free) return free;
      if (allocated >= maxVus) return null;
      // VU ids of this executor: offset + w + k·Wp, k-th allocated on this worker.
      const slot = { vu: this.newVu(), id: offset + w + allocated * Wp };
      allocated++;
      return slot;
    };
    const dropExpired = (now: number) => {
      while (backlog.length > 0 && now - backlog[0]!.intended > maxWait) {
        backlog.shift();
        this.metrics.add("dropped_iterations");
      }
    };
    const launch = (slot: { vu: Vu; id: number }, a: { i: number; intended: number }) => {
      this.activeVus++;
      const done = this.iterate(slot.vu, this.openSpec(p, slot.id, a.i), hard.signal, a.intended).finally(
        () => {
          this.activeVus--;
          running.delete(done);
          dropExpired(epochNow());
          const next = epochNow() < end && !hard.signal.aborted ? backlog.shift() : undefined;
          if (next) launch(slot, next);
          else idle.push(slot);
        },
      );
      running.add(done);
    };

    for (let i = 0; i < arrivals.count; i++) {
      if (workerOfArrival(i, this.pop, Wp) !== w) continue;
      const intended = start + arrivals.at(i);
      // An arrival due exactly at the end still starts (k6's ramping-arrival-rate emits it); later ones never.
      if (intended > end) break;
      await sleepUntil(intended, hard.signal);
      if (hard.signal.aborted || this.stop.aborted) break;
      dropExpired(epochNow());
      const slot = backlog.length === 0 ? take() : null;
      const a = { i, intended };
      if (slot) launch(slot, a);
      else if (maxWait > 0) backlog.push(a);
      else this.metrics.add("dropped_iterations");
    }
    await sleepUntil(end, hard.signal);
    // Arrivals still waiting when the executor's time is over never start.
    this.metrics.add("dropped_iterations", backlog.splice(0).length);
    while (running.size > 0) await Promise.race(running);
    hard.abort();
  }

  private openSpec(p: ExecutorPlan, vuId: number, i: number): IterationSpec {
    const size = this.pop.rooms * this.pop.usersPerRoom;
    const user = i % size;
    const seat = seatOfUser(user, this.pop);
    const round = Math.floor(i / size);
    const userID = `${this.init.prefix}-${p.name}-a${i}`;
    let first = i - user + seat.room * this.pop.usersPerRoom;
    if (first > i) first -= size;
    const listenTo = first < 0 || first === i ? null : `${this.init.prefix}-${p.name}-a${first}`;
    return this.spec(p, vuId, i, userID, seat, round, user, listenTo, listenTo ?? userID);
  }

  // ---- both -------------------------------------------------------------------------------------------

  private spec(
    p: ExecutorPlan,
    vuId: number,
    iteration: number,
    userID: string,
    seat: ReturnType<typeof seatOfUser>,
    round: number,
    user: number,
    firstSingerUser: string | null,
    owner: string,
  ): IterationSpec {
    const s = this.init.scenario;
    const cacheDir = s.cache === "vu" ? join(this.init.cacheRoot, `vu${vuId}`) : undefined;
    if (cacheDir) mkdirSync(cacheDir, { recursive: true });
    const v = s.mix ? drawVariant(s.mix, this.init.seed, seat.room, round) : null;
    const picker = v ? this.mixSongs.get(poolKey(v.vendorId, v.type)) : undefined;
    return {
      scenario: p.name,
      vu: vuId,
      iteration,
      userID,
      roomID: roomID(this.init.prefix, seat.room),
      seat,
      listenTo: seat.role === "listener" && firstSingerUser ? streamOf(firstSingerUser) : null,
      masterID: owner,
      song: (picker ?? this.songs).pick(seat.room, round),
      resource: v
        ? { type: v.type, quality: s.resource.quality, vendorId: v.vendorId, billingMode: v.billingMode }
        : s.resource,
      ...(v && v.sceneId !== 0 ? { sceneId: v.sceneId } : {}),
      ...(s.player ? { player: s.player } : {}),
      preferShared: prefersShare(this.init.seed, s.shareRatio, seat, user, round),
      seconds: s.singSeconds,
      ...(s.songsPerLogin > 1 ? { songsPerLogin: s.songsPerLogin } : {}),
      codec: s.media.codec,
      seed: (this.init.seed + vuId * 7919 + iteration) >>> 0,
      cacheDir,
      audio: {
        memoryCache: s.cache === "memory",
        shared: s.audio.shared,
        voiceProfiles: s.audio.voiceProfiles,
      },
      // token04 login and lyrics (issue 11 item 3).
      ...(s.auth.mode === "token04"
        ? {
            auth: {
              ttlSeconds: s.auth.ttlSeconds,
              first: unitDraw(this.init.seed, 5, vuId, iteration) < s.auth.staleShare ? "expired" : "fresh",
            } as const,
          }
        : {}),
      ...(s.lyrics ? { lyrics: s.lyrics } : {}),
      ...(s.scoring ? { scoring: s.scoring } : {}),
    };
  }

  /** One iteration with its iteration-level metrics; `intended` (open model) adds the corrected values. */
  private async iterate(
    vu: Vu,
    spec: IterationSpec,
    signal: AbortSignal,
    intended: number | null,
  ): Promise<void> {
    const started = epochNow();
    let outcome: IterationOutcome;
    try {
      outcome = await vu.iteration(spec, signal);
    } catch (err) {
      this.out.log(
        `VU ${spec.vu} iteration ${spec.iteration}: ${err instanceof Error ? (err.stack ?? err.message) : err}`,
      );
      outcome = { ok: false, code: "exception", ttfaMs: null, aborted: signal.aborted };
      this.metrics.error("exception");
    }
    const ended = epochNow();
    const m = this.metrics;
    if (outcome.aborted) {
      m.add("interrupted_iterations");
      return;
    }
    m.add("iterations");
    m.rate("errors", !outcome.ok);
    if (!outcome.ok) {
      m.rate(`errors{code:${outcome.code}}`, true);
    }
    m.record("iteration_duration_ms", ended - started);
    if (outcome.ttfaMs !== null) m.record("ttfa_ms", outcome.ttfaMs);
    if (intended !== null) {
      const delay = Math.max(0, started - intended);
      m.record("iteration_duration_ms{corrected:true}", ended - intended);
      if (outcome.ttfaMs !== null) m.record("ttfa_ms{corrected:true}", outcome.ttfaMs + delay);
    }
  }
}

/** When (ms since the executor's start, at or after `t`) VU j is next wanted, or null if never again. */
export function nextActive(p: ExecutorPlan, j: number, t: number): number | null {
  if (vusAt(p, t) > j) return t;
  for (const s of p.vuSteps) if (s.atMs > t && s.vus > j && s.atMs < p.durationMs) return s.atMs;
  return null;
}

/** When (after `t`) VU j stops being wanted: the next step at or below j, or the executor's end. */
export function nextInactive(p: ExecutorPlan, j: number, t: number): number | null {
  for (const s of p.vuSteps) if (s.atMs > t && s.vus <= j) return s.atMs;
  return p.durationMs;
}
