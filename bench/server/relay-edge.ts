import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { Driver, findEdge, RELAY_LAG_P99_MS, relayStepPasses } from "../cases/media-relay.ts";
import { findOnPath } from "../runner/peers.ts";
import type { Started } from "./servers.ts";
import { startTreeRelay } from "./tree-relay.ts";

// The media relay race's figure (bench/cases/media-relay.ts: delivered frames/s at the most rooms where >= 99%
// of frames arrive with p99 relay lag < 20 ms) for several checkouts' simulators and the bare ws relay side by
// side: a before/after of the relay against the same reference in one session. Each relay is its own process
// (pinned to CPU 0, its load process to CPU 1, as the race runs them) with its own load process (relay-load.ts
// of this tree); in each round every relay's edge is searched in turn, the order rotating by round, with the
// race's findEdge from that relay's last edge. Unlike the bench runner (which records such a round as failed and
// takes its medians over the others), a round in which no step passes (a machine too busy for even one room)
// counts 0 for that relay here, and the rounds go on. Medians over rounds, and
// the ratio of each tree to the bare relay per round.
//
//   npx tsx bench/server/relay-edge.ts --tree /work/main --tree . [--rounds 3] [--seconds 3] [--max 160]

const { values } = parseArgs({
  options: {
    tree: { type: "string", multiple: true },
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "3" },
    settle: { type: "string", default: "500" },
    max: { type: "string", default: "160" },
    tolerance: { type: "string", default: "0.1" },
  },
});
const targets = [...(values.tree?.length ? values.tree : ["."]), "bare"];
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const SETTLE = Number(values.settle);
const MAX = Number(values.max);
const TOLERANCE = Number(values.tolerance);
const pin = findOnPath("taskset") !== null;

interface Probe {
  rooms: number;
  expected: number;
  received: number;
  delivered_fps: number;
  p99_us: number | null;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");

const relays: Started[] = [];
const drivers: Driver[] = [];
try {
  for (const t of targets) {
    const relay = await startTreeRelay(t, { cpus: pin ? "0" : undefined });
    relays.push(relay);
    drivers.push(Driver.start(t === "bare" ? "bare" : "sim", relay.url, pin ? "1" : undefined));
  }
  console.log(`relays on CPU 0, loads on CPU 1: ${pin}; load average ${load()}`);
  // Warm-up, not measured: sockets connected, JIT settled.
  for (const d of drivers) await d.ask("connect 16");
  for (const d of drivers) await d.ask(`probe 16 1 ${SETTLE}`);
  const last = targets.map(() => 0);
  const fps: number[][] = targets.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < targets.length; k++) {
      const t = (k + r) % targets.length;
      const log: string[] = [];
      const step = async (rooms: number) => {
        const p = await drivers[t]!.ask<Probe>(`probe ${rooms} ${SECONDS} ${SETTLE}`);
        const p99 = p.p99_us === null ? "-" : (p.p99_us / 1000).toFixed(1);
        log.push(`${rooms}:${Math.round((100 * p.received) / Math.max(1, p.expected))}%:${p99}ms`);
        return { ok: relayStepPasses(p), fps: p.delivered_fps };
      };
      const e = await findEdge(
        step,
        last[t]! > 0
          ? { guess: last[t]!, factor: 1.25, max: MAX, tolerance: TOLERANCE }
          : { guess: 16, factor: 2, max: MAX, tolerance: TOLERANCE },
      );
      if (e.rooms > 0) last[t] = e.rooms;
      fps[t]!.push(e.fps);
      console.log(
        JSON.stringify({
          round: r,
          relay: targets[t],
          rooms: e.rooms,
          fps: Math.round(e.fps),
          capped: e.capped,
          steps: log.join(" "),
          load: load(),
        }),
      );
    }
  }
  const bare = fps[targets.length - 1]!;
  for (let t = 0; t < targets.length; t++) {
    // Rounds where the bare relay passed no step say nothing about the ratio: left out.
    const ratios = fps[t]!.flatMap((f, r) => (bare[r]! > 0 ? [f / bare[r]!] : []));
    console.log(
      `${targets[t]}: median ${Math.round(median(fps[t]!))} frames/s at p99 < ${RELAY_LAG_P99_MS} ms (rounds ${fps[t]!.map(Math.round).join(", ")})` +
        (t < targets.length - 1
          ? `; vs bare median ${ratios.length ? median(ratios).toFixed(2) : "-"}x (rounds the bare relay passed: ${ratios.map((x) => x.toFixed(2)).join(", ")})`
          : ""),
    );
  }
  console.log(`load average ${load()}`);
} finally {
  await Promise.all(drivers.map((d) => d.stop()));
  await Promise.all(relays.map((s) => s.stop()));
}
