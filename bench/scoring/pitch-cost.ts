import { loadavg } from "node:os";
import { allocFrame } from "../../reference/mixer/frame.ts";
import { type PitchNote, VoiceSource } from "../../reference/mixer/voice.ts";
import { Scorer } from "../../reference/scoring/scorer.ts";
import { YinDetector } from "../../reference/scoring/yin.ts";

// CPU per 10 ms frame of vocal scoring, to choose the detector's rate and to give capacity planners the figure
// scoring adds to mix_cost_us. Variants run interleaved, several rounds each, on the same pre-rendered voice
// frames (the voice's own cost is not counted); CPU time (process.cpuUsage: user + system) per frame, medians.
// Usage: tsx bench/scoring/pitch-cost.ts [rounds=7] [frames=3000]

const rounds = Number(process.argv[2] ?? 7);
const frames = Number(process.argv[3] ?? 3000);

const pitch: PitchNote[] = [];
for (let t = 0, k = 0; t < frames * 10; t += 300, k++)
  pitch.push({ begin_time: t, duration: 260, value: 48 + ((k * 5) % 29) });
const voice = new VoiceSource(pitch, { seed: 1 });
const audio: Int16Array[] = [];
for (let f = 0; f < frames; f++) {
  const fr = allocFrame();
  voice.read(fr);
  audio.push(fr);
}

interface Variant {
  name: string;
  run: () => void;
}

function detectorVariant(name: string, decimation: number, earlyExit = true): Variant {
  const y = new YinDetector({ decimation, earlyExit });
  return {
    name,
    run: () => {
      for (const fr of audio) y.detect(fr);
    },
  };
}

const scorer = new Scorer();
const variants: Variant[] = [
  detectorVariant("yin 24 kHz (decimation 2)", 2),
  detectorVariant("yin 12 kHz (decimation 4)", 4),
  detectorVariant("yin 8 kHz, every lag (before)", 6, false),
  detectorVariant("yin 8 kHz (decimation 6, chosen)", 6),
  {
    name: "Scorer.feed (yin 8 kHz + scoring)",
    run: () => {
      scorer.start(pitch, 50);
      for (let f = 0; f < audio.length; f++) scorer.feed(audio[f]!, f * 10);
    },
  },
];

const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
for (const v of variants) v.run(); // warm-up: JIT
for (let r = 0; r < rounds; r++) {
  for (const v of variants) {
    const c0 = process.cpuUsage();
    v.run();
    const c = process.cpuUsage(c0);
    samples.get(v.name)!.push((c.user + c.system) / frames);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `scoring CPU per 10 ms frame: ${rounds} interleaved rounds x ${frames} frames, loadavg ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
for (const v of variants) {
  const xs = samples.get(v.name)!;
  console.log(
    `${v.name.padEnd(36)} median ${median(xs).toFixed(1).padStart(6)} µs  min ${Math.min(...xs).toFixed(1)}  max ${Math.max(...xs).toFixed(1)}`,
  );
}
