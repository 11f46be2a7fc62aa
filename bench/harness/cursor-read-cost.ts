// A measurement, run by hand: what a publisher's input read costs (issue 10): StreamCursor.read of a shared
// mono stream (reference/audio/rendered-stream.ts copyFrame: the arena's 10 ms expanded into the mixer's
// stereo input), in rooms-250's shape: `--mixers` publishers of 2 inputs each (accompaniment + voice), every
// input on its own stream and position in a process-wide arena of `--songs` x 2 streams of `--seconds`, read
// in one pass per 10 ms as the thread's clock does. Against the same number of reads on one hot stream (the
// frame in cache), so the memory cost shows apart from the loop's own. CPU (process.cpuUsage: this bench runs on one thread) per read, median of
// `--rounds`, with the load average.
//
//   node --import tsx bench/harness/cursor-read-cost.ts [--mixers 125] [--songs 40] [--seconds 30] [--rounds 5]

import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { allocStreamHeader, RenderedStream, StreamCursor } from "../../reference/audio/rendered-stream.ts";
import { AudioArena, createAudioArena } from "../../reference/audio/shared-arena.ts";
import { FRAME_FRAMES, FRAME_SAMPLES } from "../../reference/mixer/frame.ts";

const { values } = parseArgs({
  options: {
    mixers: { type: "string", default: "125" },
    songs: { type: "string", default: "40" },
    seconds: { type: "string", default: "30" },
    rounds: { type: "string", default: "5" },
  },
});
const MIXERS = Number(values.mixers);
const SONGS = Number(values.songs);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const FRAMES = SECONDS * 48_000;

class NoiseStream extends RenderedStream {
  constructor(arena: AudioArena, seed: number) {
    super(4800, { arena, header: allocStreamHeader(arena, Math.ceil(FRAMES / 4800) + 1), mono: true });
    this.seed = seed;
  }
  private seed: number;
  protected render(out: Int16Array, frames: number, from: number): number {
    const n = Math.max(0, Math.min(frames, FRAMES - from));
    for (let f = 0; f < n; f++) out[2 * f] = out[2 * f + 1] = Math.imul(from + f + 1, this.seed) >> 16;
    return n;
  }
}

const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

const arena = new AudioArena(
  createAudioArena({ bytes: Math.ceil((SONGS * 2 * FRAMES * 2 * 1.1 + 65536) / 16) * 16 }),
);
const streams: NoiseStream[] = [];
for (let i = 0; i < SONGS * 2; i++) {
  const s = new NoiseStream(arena, 0x9e3779b1 + i * 2);
  s.ensure(FRAMES);
  streams.push(s);
}
const outs = Array.from({ length: MIXERS * 2 }, () => new Int16Array(FRAME_SAMPLES));

/** One pass of the clock over every input: CPU µs per read, over `ticks` 10 ms ticks. */
function pass(cursors: StreamCursor[], ticks: number): number {
  const c0 = cpuUs();
  for (let t = 0; t < ticks; t++) {
    for (let i = 0; i < cursors.length; i++) {
      const c = cursors[i]!;
      if (c.position + FRAME_FRAMES > FRAMES) c.position = 0;
      c.read(outs[i]!);
    }
  }
  return (cpuUs() - c0) / (ticks * cursors.length);
}

function cursorsSpread(): StreamCursor[] {
  const cs: StreamCursor[] = [];
  for (let m = 0; m < MIXERS; m++) {
    for (let k = 0; k < 2; k++) {
      const s = streams[(m * 7 + k * 3) % streams.length]!;
      const at = Math.floor(Math.random() * (FRAMES / FRAME_FRAMES - 1)) * FRAME_FRAMES;
      cs.push(new StreamCursor(s, at, () => {}));
    }
  }
  return cs;
}

function cursorsHot(): StreamCursor[] {
  return Array.from({ length: MIXERS * 2 }, () => new StreamCursor(streams[0]!, 0, () => {}));
}

const hotRes: number[] = [];
const spreadRes: number[] = [];
const ticks = 2000;
pass(cursorsSpread(), 200);
pass(cursorsHot(), 200);
for (let r = 0; r < ROUNDS; r++) {
  // Hot: every cursor reads frame 0 of one stream, over and over (positions reset each tick).
  const hot = cursorsHot();
  const c0 = cpuUs();
  for (let t = 0; t < ticks; t++) {
    for (let i = 0; i < hot.length; i++) {
      hot[i]!.position = 0;
      hot[i]!.read(outs[i]!);
    }
  }
  hotRes.push((cpuUs() - c0) / (ticks * hot.length));
  spreadRes.push(pass(cursorsSpread(), ticks));
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
process.stdout.write(
  `cursor reads: ${MIXERS} mixers x 2 inputs, ${SONGS * 2} streams of ${SECONDS} s mono (${((SONGS * 2 * FRAMES * 2) / 2 ** 20).toFixed(0)} MiB), load ${loadavg()
    .map((v) => v.toFixed(1))
    .join(" ")}\n` +
    `  hot    (one frame, in cache) ${med(hotRes).toFixed(3)} µs CPU per read (${hotRes.map((v) => v.toFixed(3)).join(" ")})\n` +
    `  spread (rooms-250's shape)   ${med(spreadRes).toFixed(3)} µs CPU per read (${spreadRes.map((v) => v.toFixed(3)).join(" ")})\n`,
);
