import { allocFrame, FRAME_FRAMES } from "../../reference/mixer/frame.ts";
import { Mixer } from "../../reference/mixer/mixer.ts";
import { ResampledSource } from "../../reference/mixer/resampled-source.ts";
import { WavWriter } from "../../reference/mixer/wav.ts";
import { WavFileReader } from "../../reference/mixer/wav-reader.ts";

// One benchmark case in its own process: stream K WAV inputs through the mixer (unity gain, plain saturation,
// as `amix=normalize=0`) into a WAV file, as fast as possible. Prints one JSON line for the parent.
// Usage: node --import tsx bench/mixer/mix-case.ts OUT.wav IN1.wav [IN2.wav ...]

const [out, ...inputs] = process.argv.slice(2);
if (!out || inputs.length === 0) {
  console.error("usage: mix-case.ts OUT.wav IN1.wav [IN2.wav ...]");
  process.exit(2);
}
const started = performance.now();
const readers = inputs.map((p) => new WavFileReader(p, 4800));
const mixer = new Mixer();
// 100 ms per read: one syscall per input every 10 frames rather than every frame.
for (const r of readers) mixer.add(new ResampledSource(r, { chunkFrames: 4800 }));
const longest = Math.max(...readers.map((r) => Math.ceil((r.frames * 48000) / r.sampleRate)));
const frames = Math.ceil(longest / FRAME_FRAMES);
const writer = new WavWriter(out);
const frame = allocFrame();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let f = 0; f < frames; f++) {
  mixer.mix(frame);
  writer.write(frame, Math.min(FRAME_FRAMES, longest - f * FRAME_FRAMES) * 2);
}
writer.close();
const t1 = performance.now();
const cpu = process.cpuUsage(cpu0);
for (const r of readers) r.close();
console.log(
  JSON.stringify({
    frames,
    mix_ms: t1 - t0,
    cpu_ms: (cpu.user + cpu.system) / 1000,
    in_process_ms: t1 - started,
  }),
);
