// A measurement, run by hand: what reading a publisher's two shared inputs costs inside the mix (issue 10:
// rooms-250's workers spent 9.5% in copyFrame, the arena's 10 ms copied into the mixer's input buffer), and
// what reading them in place would leave. `--mixers` publisher mixers of 2 inputs (accompaniment at volume 100,
// voice at 60, the limiter on, as the engine's capture device mixes), each input on its own stream and position
// in `--songs` x 2 streams of `--seconds`, one mix per mixer per 10 ms tick:
//   cursor    today: StreamCursor over mono streams in the process's audio arena (reference/audio): copyFrame
//             expands each 10 ms into the input's stereo buffer, the mixer copies it into its SIMD scratch slot
//   in place  the bound for an arena the SIMD kernel could read: BufferSource over stereo audio allocated in the
//             kernel's own memory (pcmArena), read in place by the kernel, no copy (stereo is twice the mono
//             bytes, so this overstates what a mono in-place read would cost)
// CPU (process.cpuUsage, one thread) per mixer frame, medians of interleaved rounds, with the load average.
//
//   node --import tsx bench/harness/mixer-input-cost.ts [--mixers 125] [--songs 40] [--seconds 15] [--rounds 7]
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { allocStreamHeader, RenderedStream, StreamCursor } from "../../reference/audio/rendered-stream.ts";
import { AudioArena, createAudioArena } from "../../reference/audio/shared-arena.ts";
import { FRAME_FRAMES, FRAME_SAMPLES } from "../../reference/mixer/frame.ts";
import { Mixer } from "../../reference/mixer/mixer.ts";
import { pcmArena } from "../../reference/mixer/simd-kernel.ts";
import { BufferSource, type PcmSource } from "../../reference/mixer/source.ts";

const { values } = parseArgs({
  options: {
    mixers: { type: "string", default: "125" },
    songs: { type: "string", default: "40" },
    seconds: { type: "string", default: "15" },
    rounds: { type: "string", default: "7" },
  },
});
const MIXERS = Number(values.mixers);
const STREAMS = Number(values.songs) * 2;
const FRAMES = Number(values.seconds) * 48_000;
const ROUNDS = Number(values.rounds);
const TICKS = 500;

const sample = (seed: number, f: number) => Math.imul(f + 1, seed) >> 19; // ±4096: under the limiter's ceiling

class NoiseStream extends RenderedStream {
  constructor(
    arena: AudioArena,
    private readonly seed: number,
  ) {
    super(4800, { arena, header: allocStreamHeader(arena, Math.ceil(FRAMES / 4800) + 1), mono: true });
  }
  protected render(out: Int16Array, frames: number, from: number): number {
    const n = Math.max(0, Math.min(frames, FRAMES - from));
    for (let f = 0; f < n; f++) out[2 * f] = out[2 * f + 1] = sample(this.seed, from + f);
    return n;
  }
}

const arena = new AudioArena(
  createAudioArena({ bytes: Math.ceil((STREAMS * FRAMES * 2 * 1.1 + 65536) / 16) * 16 }),
);
const streams: NoiseStream[] = [];
for (let i = 0; i < STREAMS; i++) {
  const s = new NoiseStream(arena, 0x9e3779b1 + i * 2);
  s.ensure(FRAMES);
  streams.push(s);
}
const simdMem = pcmArena();
if (simdMem === null) throw new Error("no WebAssembly SIMD here: nothing to compare");
const stereo: Int16Array[] = [];
for (let i = 0; i < STREAMS; i++) {
  const pcm = simdMem.alloc(FRAMES * 2);
  const seed = 0x9e3779b1 + i * 2;
  for (let f = 0; f < FRAMES; f++) pcm[2 * f] = pcm[2 * f + 1] = sample(seed, f);
  stereo.push(pcm);
}

if (FRAMES <= TICKS * FRAME_FRAMES) throw new Error(`--seconds must exceed ${TICKS / 100}`);
/** A position on the 10 ms grid with room for a pass (every source is placed anew before each pass). */
const startAt = () =>
  Math.floor(Math.random() * ((FRAMES - TICKS * FRAME_FRAMES) / FRAME_FRAMES)) * FRAME_FRAMES;

interface Rig {
  mixers: Mixer[];
  restart(): void;
}

function cursorRig(): Rig {
  const mixers: Mixer[] = [];
  const cursors: StreamCursor[] = [];
  for (let m = 0; m < MIXERS; m++) {
    const mx = new Mixer({ limiter: true });
    for (let k = 0; k < 2; k++) {
      const c = new StreamCursor(streams[(m * 7 + k * 3) % STREAMS]!, startAt(), () => {});
      cursors.push(c);
      mx.add(c, { volume: k === 0 ? 100 : 60 });
    }
    mixers.push(mx);
  }
  return {
    mixers,
    restart() {
      for (const c of cursors) c.position = startAt();
    },
  };
}

function inPlaceRig(): Rig {
  let mixers: Mixer[] = [];
  const build = () => {
    mixers = [];
    for (let m = 0; m < MIXERS; m++) {
      const mx = new Mixer({ limiter: true });
      for (let k = 0; k < 2; k++) {
        const pcm = stereo[(m * 7 + k * 3) % STREAMS]!;
        const at = startAt() * 2;
        const src: PcmSource = new BufferSource(pcm.subarray(at));
        mx.add(src, { volume: k === 0 ? 100 : 60 });
      }
      mixers.push(mx);
    }
  };
  build();
  return {
    get mixers() {
      return mixers;
    },
    restart: build,
  };
}

const out = new Int16Array(FRAME_SAMPLES);
function pass(r: Rig): number {
  r.restart();
  const ms = r.mixers;
  const u0 = process.cpuUsage();
  for (let t = 0; t < TICKS; t++) for (let i = 0; i < ms.length; i++) ms[i]!.mix(out);
  const u = process.cpuUsage(u0);
  return (u.user + u.system) / (TICKS * ms.length);
}

const rigs: [string, Rig][] = [
  ["cursor", cursorRig()],
  ["in place", inPlaceRig()],
];
for (const [, r] of rigs) pass(r); // warm-up
const got = new Map<string, number[]>(rigs.map(([n]) => [n, []]));
for (let round = 0; round < ROUNDS; round++) for (const [n, r] of rigs) got.get(n)!.push(pass(r));
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
process.stdout.write(
  `mixer inputs: ${MIXERS} mixers x 2 inputs over ${STREAMS} streams of ${values.seconds} s, ${ROUNDS} rounds, load ${loadavg()
    .map((v) => v.toFixed(1))
    .join(" ")}\n`,
);
for (const [n] of rigs) {
  const xs = got.get(n)!;
  process.stdout.write(
    `  ${n.padEnd(8)} ${med(xs).toFixed(3)} µs CPU per mixer frame (${xs.map((v) => v.toFixed(3)).join(" ")})\n`,
  );
}
