import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { Resampler } from "../../reference/mixer/resampler.ts";
import { OracleResampler } from "../../reference/mixer/resampler-oracle.ts";

// The resampler's FIR in WebAssembly SIMD against its JS loops and against the implementation before the SIMD
// kernel (resampler-oracle.ts), CPU per second of 48 kHz stereo output, on the CDN's tiers, rendered the way
// shared audio renders (4,096-frame writes, 4,800-frame reads). Interleaved rounds, medians, the load average
// printed: the machine is shared. Usage: npx tsx bench/mixer/resampler-simd.ts [--rounds 5] [--seconds 10]

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "5" }, seconds: { type: "string", default: "10" } },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

type Make = (rate: number, ch: number) => Pick<Resampler, "drained" | "read" | "write" | "end">;

function render(make: Make, rate: number, ch: number, input: Int16Array): number {
  const rs = make(rate, ch);
  const out = new Int16Array(4800 * 2);
  const frames = input.length / ch;
  let w = 0;
  const t0 = cpuMs();
  while (!rs.drained) {
    if (rs.read(out, 0, 4800) > 0) continue;
    if (w < frames) w += rs.write(input.subarray(w * ch), Math.min(4096, frames - w));
    else rs.end();
  }
  return cpuMs() - t0;
}

const kinds: [string, Make][] = [
  ["before", (r, c) => new OracleResampler(r, c, { maxChunkFrames: 4096 })],
  ["js", (r, c) => new Resampler(r, c, { maxChunkFrames: 4096, kernel: "js" })],
  ["simd", (r, c) => new Resampler(r, c, { maxChunkFrames: 4096 })],
];
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

console.log(`resampler SIMD vs JS: load ${loadavg()[0]!.toFixed(1)}, ${rounds} rounds of ${seconds} s`);
for (const [rate, ch] of [
  [8000, 1],
  [10000, 1],
  [10000, 2],
  [44100, 1],
  [44100, 2],
]) {
  const input = new Int16Array(rate! * seconds * ch!);
  for (let k = 0; k < input.length; k++)
    input[k] = Math.round(12000 * Math.sin(k * 0.05) + 3000 * Math.sin(k * 0.71));
  const ms = new Map<string, number[]>(kinds.map(([k]) => [k, []]));
  for (const [, make] of kinds) render(make, rate!, ch!, input); // warm-up
  for (let r = 0; r < rounds; r++)
    for (const [k, make] of kinds) ms.get(k)!.push(render(make, rate!, ch!, input));
  const per = (k: string) => median(ms.get(k)!) / seconds;
  console.log(
    `${String(rate).padStart(5)} Hz x${ch}: ms CPU per output second  before ${per("before").toFixed(2)}  ` +
      `js ${per("js").toFixed(2)}  simd ${per("simd").toFixed(2)}  (${(per("before") / per("simd")).toFixed(1)}x)`,
  );
}
console.log(`load at the end ${loadavg()[0]!.toFixed(1)}`);
