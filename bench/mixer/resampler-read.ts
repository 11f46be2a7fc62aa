import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { Resampler } from "../../reference/mixer/resampler.ts";

// The resampler's read loop on the CDN's tiers, CPU per second of 48 kHz stereo output: a mono source through
// the mirrored loop (one dot product per output frame, resampler.ts readMirrored) against the same samples
// given as two equal channels, which take the two-channel loop (what mono took before). Rendering songs was
// 20-24% of a load worker's CPU in a 500-VU profile (issue 10). Interleaved rounds, medians, the load average
// printed: the machine is shared. Usage: npx tsx bench/mixer/resampler-read.ts [--rounds 7] [--seconds 20]

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "7" }, seconds: { type: "string", default: "20" } },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function render(rate: number, channels: number, map: readonly [number, number], input: Int16Array): number {
  const rs = new Resampler(rate, channels, { channelMap: map });
  const out = new Int16Array(4800 * 2);
  const frames = input.length / channels;
  let written = 0;
  const t0 = cpuMs();
  while (!rs.drained) {
    if (rs.read(out, 0, 4800) > 0) continue;
    if (written < frames) written += rs.write(input.subarray(written * channels), frames - written);
    else rs.end();
  }
  return cpuMs() - t0;
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

console.log(`resampler read: ${cpus()[0]?.model ?? "?"} x${cpus().length}, load ${loadavg()[0]!.toFixed(1)}`);
for (const rate of [8000, 10000, 44100]) {
  const frames = rate * seconds;
  const mono = new Int16Array(frames);
  for (let k = 0; k < frames; k++)
    mono[k] = Math.round(12000 * Math.sin(k * 0.05) + 3000 * Math.sin(k * 0.71));
  const twin = new Int16Array(frames * 2);
  for (let k = 0; k < frames; k++) twin.set([mono[k]!, mono[k]!], k * 2);
  const mirrored: number[] = [];
  const general: number[] = [];
  render(rate, 1, [0, 0], mono); // warm-up: both loops optimised before timing
  render(rate, 2, [0, 1], twin);
  for (let r = 0; r < rounds; r++) {
    mirrored.push(render(rate, 1, [0, 0], mono) / seconds);
    general.push(render(rate, 2, [0, 1], twin) / seconds);
  }
  const m = median(mirrored);
  const g = median(general);
  console.log(
    `  ${rate} Hz mono -> 48 kHz stereo: two-channel loop ${g.toFixed(2)} ms CPU per output second, mirrored ${m.toFixed(2)} ms (${(g / m).toFixed(2)}x; min-max ${Math.min(...mirrored).toFixed(2)}-${Math.max(...mirrored).toFixed(2)}), load ${loadavg()[0]!.toFixed(1)}`,
  );
}
