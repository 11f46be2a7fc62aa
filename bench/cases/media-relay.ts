// The media relay race: frames/s the simulator's media WebSocket relay delivers with p99 relay lag < 20 ms,
// against a bare `ws` relay of the same frames (bench/server/bare-relay.ts: role message, ws.send per player,
// the same backpressure skip, nothing else) measured in the same run. Black-box over real WebSockets on
// loopback (the documented media protocol, so a change of the relay's insides needs no change here): rooms of
// one publisher and LISTENERS players, each publisher a 10 ms PCM frame every 10 ms (relay-load.ts, its own
// process on CPU 1, the relays on CPU 0 when taskset exists). A round finds each relay's edge (findEdge): rooms
// moved up or down from a guess (16 in the first round, that relay's last edge after) until a step fails or
// passes, then bisected to 10% (20% in --quick); a step passes when >= 99% of the frames arrive and the p99
// of (receipt - capture time) is < 20 ms. The simulator is the one the server races share (shared-sim.ts). The figure is the delivered frames/s at the highest passing step.
// The bar (>= 0.8x the bare relay) is this project's choice: the issue names the metric, not a ratio.

import { type ChildProcess, spawn } from "node:child_process";
import { cpus } from "node:os";
import { type BenchCase, type Extra, RoundFailure } from "../runner/case.ts";
import { findOnPath } from "../runner/peers.ts";
import { shared } from "../runner/shared.ts";
import { repoRoot, type Started, startServer, stopChild } from "../server/servers.ts";
import { sharedSimulator } from "./shared-sim.ts";

export const RELAY_LAG_P99_MS = 20;
const LISTENERS = 4;
const FPS_PER_ROOM = 100 * LISTENERS;
/** Rooms of the first step of the first round (then x2, x4 up or down); earlier quiet runs' edges: 39-42. */
const INITIAL_GUESS = 16;

interface Probe {
  rooms: number;
  offered_fps: number;
  delivered_fps: number;
  expected: number;
  received: number;
  p50_us: number;
  p99_us: number | null;
  /** The relay's last error message to a publisher (or its socket closing) during the step. */
  last_error?: string;
}

export function relayStepPasses(p: Pick<Probe, "expected" | "received" | "p99_us">): boolean {
  return (
    p.expected > 0 &&
    p.received >= 0.99 * p.expected &&
    p.p99_us !== null &&
    p.p99_us < RELAY_LAG_P99_MS * 1000
  );
}

/** The load process: line commands in, one JSON line per answer (relay-load.ts). */
export class Driver {
  private buf = "";
  private waiting: ((line: string) => void)[] = [];
  private constructor(readonly child: ChildProcess) {
    child.stdout!.on("data", (c: Buffer) => {
      this.buf += c.toString();
      let nl = this.buf.indexOf("\n");
      while (nl >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        this.waiting.shift()?.(line);
        nl = this.buf.indexOf("\n");
      }
    });
  }

  static start(kind: "sim" | "bare", url: string, cpusList?: string): Driver {
    const node = [
      process.execPath,
      "--import",
      "tsx",
      "bench/server/relay-load.ts",
      kind,
      url,
      String(LISTENERS),
    ];
    const cmd = cpusList && findOnPath("taskset") ? ["taskset", "-c", cpusList, ...node] : node;
    return new Driver(spawn(cmd[0]!, cmd.slice(1), { cwd: repoRoot, stdio: ["pipe", "pipe", "inherit"] }));
  }

  ask<T>(line: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`relay load exited ${code} during "${line}"`));
      this.child.once("exit", onExit);
      this.waiting.push((answer) => {
        this.child.off("exit", onExit);
        const j = JSON.parse(answer) as T & { error?: string };
        if (j.error) reject(new Error(`relay load: ${j.error}`));
        else resolve(j);
      });
      this.child.stdin!.write(`${line}\n`);
    });
  }

  /** Idempotent: the case's close and the run's end (a prestarted load) may both call it. */
  stop(): Promise<void> {
    if (!this.child.stdin!.writableEnded) this.child.stdin!.end("quit\n");
    return stopChild(this.child);
  }
}

function stepText(p: Probe): string {
  const p99 = p.p99_us === null ? "-" : (p.p99_us / 1000).toFixed(1);
  const why = p.last_error ? `(${p.last_error})` : "";
  return `${p.rooms}:${Math.round((100 * p.received) / Math.max(1, p.expected))}%:${p99}ms${why}`;
}

/**
 * One relay's edge in rooms: from `guess`, up while steps pass (up to `max`) or down while they fail, each move
 * the square of the last (x`factor`, x`factor`^2, x`factor`^4...), then bisected until the bracket is within `tolerance` (default 10%)
 * of the passing end. The first round guesses; later rounds start at that relay's last edge with a small factor,
 * so a round costs 3-5 steps where doubling from a fixed start cost ~8 (a step is ~1.7 s in --quick).
 */
export async function findEdge(
  step: (rooms: number) => Promise<{ ok: boolean; fps: number }>,
  o: { guess: number; factor: number; max: number; tolerance?: number },
): Promise<{ rooms: number; fps: number; capped: boolean }> {
  let lo = 0;
  let loFps = 0;
  let hi: number | null = null;
  let rooms = Math.max(1, Math.min(Math.round(o.guess), o.max));
  let move = o.factor;
  for (;;) {
    const r = await step(rooms);
    if (r.ok) {
      lo = rooms;
      loFps = r.fps;
    } else hi = rooms;
    let next: number;
    if (hi === null) {
      if (rooms >= o.max) break;
      next = Math.min(o.max, Math.max(rooms + 1, Math.round(rooms * move)));
      move *= move;
    } else if (lo === 0) {
      if (rooms <= 1) break;
      next = Math.max(1, Math.min(rooms - 1, Math.round(rooms / move)));
      move *= move;
    } else {
      if (hi - lo <= Math.max(1, Math.floor(lo * (o.tolerance ?? 0.1)))) break;
      next = Math.floor((lo + hi) / 2);
    }
    rooms = next;
  }
  return { rooms: lo, fps: loFps, capped: hi === null };
}

/**
 * A round's figure from its edge: the delivered frames/s at the highest passing step. A load spike can fail
 * every step of one round, even at one room: that round gives no figure (RoundFailure, with the steps), and the
 * runner records it and goes on with the next round.
 */
export function edgeFigure(e: { rooms: number; fps: number }, steps: readonly string[]): number {
  if (e.rooms === 0)
    throw new RoundFailure(
      `no step met p99 lag < ${RELAY_LAG_P99_MS} ms with 99% delivered: ${steps.join(" ")}`,
    );
  return e.fps;
}

/** The relays on CPU 0 and the loads on CPU 1 when the machine has two cores and taskset. */
function pinning(): { pin: boolean; serverCpus?: string; loadCpus?: string } {
  const pin = cpus().length >= 2 && findOnPath("taskset") !== null;
  return pin ? { pin, serverCpus: "0", loadCpus: "1" } : { pin };
}

/** The reference relay, like the simulator started once per run (runner/shared.ts). */
function sharedBareRelay(serverCpus: string | undefined): Promise<Started> {
  return shared(
    `bare ws relay on CPU ${serverCpus ?? "any"}`,
    () => startServer(["bench/server/bare-relay.ts"], {}, { cpus: serverCpus }),
    (s) => s.stop(),
  );
}

/**
 * A relay (the shared simulator or the shared bare relay) and its load process, booted (not connected: an
 * idle connected room could be timed out) once per run; the case's close stops the load, the run's end stops
 * it if the case never ran.
 */
function relayLoad(kind: "sim" | "bare", serverCpus?: string, loadCpus?: string): Promise<Driver> {
  return shared(
    `relay load of the ${kind} relay`,
    async () => {
      const relay = await (kind === "sim" ? sharedSimulator(serverCpus) : sharedBareRelay(serverCpus));
      return Driver.start(kind, relay.url, loadCpus);
    },
    (d) => d.stop(),
  );
}

export const mediaRelay: BenchCase = {
  name: "media-relay-vs-ws",
  description: `simulator media relay vs a bare ws relay of the same frames: frames/s delivered at p99 relay lag < ${RELAY_LAG_P99_MS} ms (rooms of 1 publisher + ${LISTENERS} players)`,
  referenceName: "bare ws relay",
  unit: "frames/s",
  higherIsBetter: true,
  target: 0.8,
  targetOf: "ratio",
  rounds: { quick: 2, full: 3 },
  prestart: () => {
    const { serverCpus, loadCpus } = pinning();
    return Promise.all([relayLoad("sim", serverCpus, loadCpus), relayLoad("bare", serverCpus, loadCpus)]);
  },
  async setup({ quick }) {
    const seconds = quick ? 1 : 3;
    // Settling before each step's window: 0.5 s in the full run, 0.25 s in --quick.
    const settleMs = quick ? 250 : 500;
    // The bisection stops when the bracket is within this fraction of the passing end.
    const tolerance = quick ? 0.2 : 0.1;
    const maxRooms = quick ? 64 : 160;
    const { pin, serverCpus, loadCpus } = pinning();
    const drivers: Driver[] = [];
    try {
      // Set-up at once, nothing measured yet: both relays started, both loads started (by prestart when the
      // runner called it) and connected.
      const started = await Promise.allSettled([
        relayLoad("sim", serverCpus, loadCpus),
        relayLoad("bare", serverCpus, loadCpus),
      ]);
      for (const r of started) if (r.status === "fulfilled") drivers.push(r.value);
      for (const r of started) if (r.status === "rejected") throw r.reason;
      const [ours, theirs] = drivers as [Driver, Driver];
      // Warm-up, discarded: sockets connected, both relays' JIT settled (both at once: not measured).
      await Promise.all(drivers.map((d) => d.ask(`connect ${INITIAL_GUESS}`)));
      await Promise.all(drivers.map((d) => d.ask(`probe ${INITIAL_GUESS} 1 ${settleMs}`)));
      const last: Record<"ours" | "reference", { rooms: number; capped: boolean; log: string[] }> = {
        ours: { rooms: 0, capped: false, log: [] },
        reference: { rooms: 0, capped: false, log: [] },
      };
      const measure = async (side: "ours" | "reference", d: Driver) => {
        const log: string[] = [];
        const step = async (rooms: number) => {
          const p = await d.ask<Probe>(`probe ${rooms} ${seconds} ${settleMs}`);
          log.push(stepText(p));
          return { ok: relayStepPasses(p), fps: p.delivered_fps };
        };
        const prev = last[side].rooms;
        const e = await findEdge(
          step,
          prev > 0
            ? { guess: prev, factor: 1.25, max: maxRooms, tolerance }
            : { guess: INITIAL_GUESS, factor: 2, max: maxRooms, tolerance },
        );
        const fps = edgeFigure(e, log);
        last[side] = { rooms: e.rooms, capped: e.capped, log };
        return fps;
      };
      return {
        ours: () => measure("ours", ours),
        reference: () => measure("reference", theirs),
        finish: () => {
          const extra: Extra = {
            load: pin ? "relay-load.ts on CPU 1, relays on CPU 0" : "relay-load.ts (unpinned)",
            frame: "10 ms PCM 48 kHz stereo, 1,952 bytes, every 10 ms per publisher",
            listeners_per_room: LISTENERS,
            frames_per_room_per_s: FPS_PER_ROOM,
            seconds_per_step: seconds,
            settle_ms_per_step: settleMs,
            edge_tolerance: tolerance,
            max_rooms: maxRooms,
            ours_last_rooms: last.ours.rooms,
            reference_last_rooms: last.reference.rooms,
            // "rooms:delivered%:p99" per step of the last round.
            ours_last_search: last.ours.log.join(" "),
            reference_last_search: last.reference.log.join(" "),
          };
          const capped = (["ours", "reference"] as const).filter((k) => last[k].capped);
          // A relay that passed at the largest step was not pushed to its edge: its figure is a lower bound.
          if (capped.length > 0) extra.capped_at_max_rooms = capped.join(",");
          return { extra };
        },
        close: async () => {
          await Promise.all(drivers.map((d) => d.stop()));
        },
      };
    } catch (e) {
      await Promise.all(drivers.map((d) => d.stop()));
      throw e;
    }
  },
};
