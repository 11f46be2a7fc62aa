import { loadavg } from "node:os";
import { cpuUsage } from "node:process";
import { LyricFollower } from "../reference/lyrics/follower.ts";
import { parseLyricTimeline } from "../reference/lyrics/timeline.ts";

// What following lyrics adds to a singer's 10 ms frame (issue 11 item 3: "per-frame cost must be nothing";
// issue 10's publish-path budget is <= 10 µs of CPU per frame). The pipeline calls LyricFollower.advance once
// per frame from its mixed-audio handler with the player's synchronous position; this measures that call
// against the same loop without it (the handler as it was), in process CPU time (user + system; one thread does the work), over interleaved rounds, for a
// song whose lines begin every 2 s (the worst realistic density is a line a second: a boundary every 100
// frames). Usage: npx tsx bench/lyrics-follow.ts [--frames N] [--rounds R]

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const FRAMES = arg("--frames", 2_000_000);
const ROUNDS = arg("--rounds", 7);

const timeline = parseLyricTimeline(
  "krc",
  JSON.stringify({
    lines: Array.from({ length: 2000 }, (_, i) => ({
      begin_time: 1000 + i * 2000,
      duration: 1800,
      content: "",
    })),
  }),
);
/** A stand-in for the player: its position moves 10 ms per mixed frame. */
const player = { currentProgressMs: 0 };
let sink = 0;

function frames(follower: LyricFollower | null): number {
  const t0 = cpuUsage();
  player.currentProgressMs = 0;
  for (let f = 0; f < FRAMES; f++) {
    player.currentProgressMs += 10;
    if (player.currentProgressMs >= 3_900_000) player.currentProgressMs = 0; // wrap inside the song
    follower?.advance(player.currentProgressMs);
    sink += player.currentProgressMs & 1;
  }
  const d = cpuUsage(t0);
  return ((d.user + d.system) * 1000) / FRAMES; // ns per frame
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const before: number[] = [];
const after: number[] = [];
const load0 = loadavg();
for (let r = 0; r < ROUNDS; r++) {
  before.push(frames(null));
  after.push(frames(new LyricFollower(timeline)));
}
const f = new LyricFollower(timeline);
frames(f);
console.log(
  JSON.stringify({
    frames_per_round: FRAMES,
    rounds: ROUNDS,
    without_follower_ns_per_frame: Number(median(before).toFixed(2)),
    with_follower_ns_per_frame: Number(median(after).toFixed(2)),
    added_ns_per_frame: Number((median(after) - median(before)).toFixed(2)),
    lines_shown_per_round: f.shown,
    loadavg_before: load0.map((x) => Number(x.toFixed(2))),
    loadavg_after: loadavg().map((x) => Number(x.toFixed(2))),
    sink: sink & 1,
  }),
);
