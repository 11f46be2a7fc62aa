import type { Counter } from "prom-client";
import type { Clock } from "../clock.ts";
import type { EventLog } from "./events.ts";
import type { FaultKind } from "./kind.ts";
import type { FaultSpec } from "./profile.ts";
import { keyLane, type Lane, mix32, type Rng } from "./rng.ts";
import type { FaultRequest, FrameFate, MediaStreamFaults, MediaSubject } from "./seam.ts";

// The engine's media phase: what the active profile does to each frame of each published stream.
//
// A stream's plan (which media faults picked it, each with its per-stream state) is made once per (stream,
// profile snapshot). Selector, probability and count limits (first/every/max) are applied to the stream as a
// whole, when it first meets a fault, under the stream key
//     `${app_id}|${publisher user_id}|WS /v1/media|${stream_id}#${n}`
// (n counts that user's publications of that stream id since start or reset), so a stream stays picked or
// passed over for as long as the fault exists: a PATCH that disables and re-enables it does not pick again.
// `enabled` and the time window are checked per frame. A frame's fate is then a pure function of (seed, fault
// id, stream key, sequence number) -- plus, for burst loss, the Gilbert-Elliott state, which follows the
// sequence numbers -- so the same frames get the same fates whatever their timing or interleaving. A frame
// costs a window check and a few hash draws per picked fault and allocates nothing.
//
// Observability is aggregated so a long run cannot flood the log: per stream and fault, one event per second
// in which the fault did something (time = its first affected frame), with counts of frames affected,
// dropped, duplicated, delayed and reordered (and `disconnected`, when a disconnect closed the publisher's
// connection), the mean and max delay and the first and last sequence number;
// the window is written when a later frame falls past it, when the stream or the fault ends, or when the log
// is read a second after it opened. faults_injected_total counts each affected frame exactly (at scrape).

export const MEDIA_ROUTE = "WS /v1/media";
const WINDOW_MS = 1000;

/** A compiled media fault as the engine holds it. */
export interface MediaFault {
  spec: FaultSpec;
  kind: FaultKind;
  lane: Lane;
  from: number;
  until: number;
  /** Shared by the copies a PATCH makes: the fault's identity across snapshots. */
  global: object;
}

export interface MediaDeps {
  clock: Clock;
  /** The active snapshot (read once per frame; a new object when the profile changes). */
  snapshot(): { media: readonly MediaFault[]; base: number };
  /** Brings the engine's fault states up to `now` (window edges release held frames). */
  refresh(now: number): void;
  /** Selector, count limits and probability for a whole stream: its RNG (draw 0 spent) when picked. */
  admit(f: MediaFault, req: FaultRequest, who: string, key: Lane): Rng | undefined;
  /** The next key of a stream (app+user+route+stream id). */
  nextKey(stream: string): string;
  log: EventLog;
  injected: Counter<"fault_id" | "kind">;
}

export interface MediaPhase {
  open(subject: MediaSubject, release: () => void): MediaStreamFaults;
  /** Fault `global` went away: streams it picked let go of what they hold. */
  released(global: object): void;
  /** Every fault went away (profile replaced or reset): streams write what they aggregated and let go. */
  releasedAll(): void;
  /** Writes the aggregation windows that opened a second or more before `now` (the log is being read). */
  flushDue(now: number): void;
  /** Adds the affected frames counted since the last scrape to faults_injected_total. */
  collect(): void;
}

/** Draws for one frame: counterRng's construction re-seated per sequence number, without allocating. */
class FrameRng implements Rng {
  private s0 = 0;
  private s1 = 0;
  private i = 0;

  constructor(
    private readonly a: number,
    private readonly b: number,
  ) {}

  at(seq: number): this {
    this.s0 = mix32(this.a ^ mix32(seq ^ 0x5bd1e995));
    this.s1 = mix32(this.b ^ mix32((seq + 0x68e31da4) ^ this.s0));
    this.i = 0;
    return this;
  }

  private draw(): number {
    return mix32(this.s0 ^ mix32((this.s1 + Math.imul(++this.i, 0x9e3779b9)) >>> 0));
  }

  next(): number {
    const hi = this.draw() >>> 11;
    return (hi * 4294967296 + this.draw()) / 9007199254740992;
  }
}

/** One fault that picked one stream: its state and its current one-second window. */
class Pick {
  readonly rng: FrameRng;
  start = Number.NaN;
  frames = 0;
  dropped = 0;
  duplicated = 0;
  delayed = 0;
  reordered = 0;
  disconnected = 0;
  delaySum = 0;
  delayMax = 0;
  seqFirst = 0;
  seqLast = 0;
  uncounted = 0;

  constructor(
    public f: MediaFault,
    readonly state: unknown,
    key: Lane,
  ) {
    const a = mix32(f.lane.a ^ key.a);
    this.rng = new FrameRng(a, mix32(f.lane.b ^ mix32(key.b ^ a)));
  }

  note(now: number, seq: number, e: FrameFate, deps: MediaDeps, key: string): void {
    if (now >= this.start + WINDOW_MS) this.write(deps, key);
    if (this.frames === 0) {
      this.start = now;
      this.seqFirst = seq;
    }
    this.frames++;
    this.uncounted++;
    this.seqLast = seq;
    if (e.disconnect) this.disconnected++;
    if (e.drop || e.disconnect) {
      this.dropped++;
      return;
    }
    if (e.duplicates > 0) this.duplicated++;
    if (e.holdFrames > 0) this.reordered++;
    if (e.delayMs > 0) {
      this.delayed++;
      this.delaySum += e.delayMs;
      if (e.delayMs > this.delayMax) this.delayMax = e.delayMs;
    }
  }

  write(deps: MediaDeps, key: string): void {
    if (this.frames === 0) return;
    const ms = (x: number) => Math.round(x * 1000) / 1000;
    deps.log.push({
      time: this.start,
      fault_id: this.f.spec.id,
      kind: this.f.spec.kind,
      route: MEDIA_ROUTE,
      request_key: key,
      effect: {
        frames: this.frames,
        dropped: this.dropped,
        duplicated: this.duplicated,
        delayed: this.delayed,
        reordered: this.reordered,
        delay_ms_mean: this.delayed === 0 ? 0 : ms(this.delaySum / this.delayed),
        delay_ms_max: ms(this.delayMax),
        seq_first: this.seqFirst,
        seq_last: this.seqLast,
        ...(this.disconnected > 0 ? { disconnected: this.disconnected } : {}),
      },
    });
    this.frames = this.dropped = this.duplicated = this.delayed = this.reordered = this.disconnected = 0;
    this.delaySum = this.delayMax = 0;
    this.start = Number.NaN;
  }

  count(deps: MediaDeps): void {
    if (this.uncounted === 0) return;
    deps.injected.inc({ fault_id: this.f.spec.id, kind: this.f.spec.kind }, this.uncounted);
    this.uncounted = 0;
  }
}

const blank = (f: FrameFate): FrameFate => {
  f.drop = false;
  f.duplicates = 0;
  f.delayMs = 0;
  f.holdFrames = 0;
  f.disconnect = false;
  return f;
};

export function createMediaPhase(deps: MediaDeps): MediaPhase {
  const open = new Set<StreamFaults>();

  class StreamFaults implements MediaStreamFaults {
    private snap: unknown = null;
    private picks: Pick[] = [];
    /** Per fault identity: the pick, or null when the fault passed this stream over. */
    private decided = new Map<object, Pick | null>();
    private readonly fate: FrameFate = blank({} as FrameFate);
    private readonly effect: FrameFate = blank({} as FrameFate);
    private readonly lane: Lane;
    private closed = false;

    constructor(
      readonly key: string,
      private readonly subject: FaultRequest,
      private readonly who: string,
      readonly release: () => void,
    ) {
      this.lane = keyLane(key);
    }

    has(global: object): boolean {
      return this.picks.some((p) => p.f.global === global);
    }

    get picked(): boolean {
      return this.picks.length > 0;
    }

    frame(seq: number): Readonly<FrameFate> {
      const fate = this.fate;
      blank(fate);
      if (this.closed) return fate;
      const snap = deps.snapshot();
      if (snap !== this.snap) this.replan(snap);
      if (this.picks.length === 0) return fate;
      const now = deps.clock.now();
      deps.refresh(now);
      const t = now - snap.base;
      const e = this.effect;
      for (const p of this.picks) {
        const f = p.f;
        if (!f.spec.enabled || t < f.from || t >= f.until) continue;
        blank(e);
        f.kind.mediaFrame!(f.spec, p.state, seq, p.rng.at(seq), e);
        if (!e.drop && !e.disconnect && e.duplicates === 0 && e.delayMs <= 0 && e.holdFrames === 0) continue;
        p.note(now, seq, e, deps, this.key);
        if (e.disconnect) {
          fate.disconnect = true;
          break;
        }
        if (e.drop) {
          fate.drop = true;
          break;
        }
        fate.duplicates += e.duplicates;
        if (e.delayMs > 0) fate.delayMs += e.delayMs;
        if (e.holdFrames > fate.holdFrames) fate.holdFrames = e.holdFrames;
      }
      return fate;
    }

    private replan(snap: { media: readonly MediaFault[] }): void {
      const picks: Pick[] = [];
      const decided = new Map<object, Pick | null>();
      for (const f of snap.media) {
        let p = this.decided.get(f.global);
        if (p === undefined) {
          const rng = deps.admit(f, this.subject, this.who, this.lane);
          p = rng ? new Pick(f, f.kind.mediaStream?.(f.spec, rng), this.lane) : null;
        } else if (p) {
          p.f = f;
        }
        decided.set(f.global, p);
        if (p) picks.push(p);
      }
      for (const old of this.picks) {
        if (picks.includes(old)) continue;
        old.write(deps, this.key);
        old.count(deps);
      }
      this.snap = snap;
      this.picks = picks;
      this.decided = decided;
    }

    flushDue(now: number): void {
      for (const p of this.picks) if (now >= p.start + WINDOW_MS) p.write(deps, this.key);
    }

    collect(): void {
      for (const p of this.picks) p.count(deps);
    }

    /** The profile these picks came from is gone: what they aggregated is written, the next frame replans. */
    forget(): void {
      for (const p of this.picks) {
        p.write(deps, this.key);
        p.count(deps);
      }
      this.picks = [];
      this.decided = new Map();
      this.snap = null;
    }

    close(): void {
      if (this.closed) return;
      this.closed = true;
      open.delete(this);
      this.forget();
    }
  }

  return {
    open(subject, release) {
      const who = `${subject.app_id}|${subject.user_id}`;
      const key = deps.nextKey(`${who}|${MEDIA_ROUTE}|${subject.stream_id}`);
      const s = new StreamFaults(key, { route: MEDIA_ROUTE, ...subject }, who, release);
      open.add(s);
      return s;
    },
    released(global) {
      for (const s of [...open]) if (s.has(global)) s.release();
    },
    releasedAll() {
      for (const s of [...open]) {
        if (!s.picked) continue;
        s.forget();
        s.release();
      }
    },
    flushDue(now) {
      for (const s of open) s.flushDue(now);
    },
    collect() {
      for (const s of open) s.collect();
    },
  };
}
