import { allocFrame, FRAME_FRAMES, FRAME_SAMPLES } from "../../reference/mixer/frame.ts";
import { Mixer } from "../../reference/mixer/mixer.ts";
import { mixerSource } from "../../reference/mixer/resampled-source.ts";
import { pcmArena } from "../../reference/mixer/simd-kernel.ts";
import { WavWriter } from "../../reference/mixer/wav.ts";
import { WavFileReader } from "../../reference/mixer/wav-reader.ts";

// One benchmark case in its own process: stream K WAV inputs through the mixer (unity gain, plain saturation,
// as `amix=normalize=0`) into a WAV file, as fast as possible. Prints one JSON line for the parent.
// Usage: node --import tsx bench/mixer/mix-case.ts OUT.wav IN1.wav [IN2.wav ...]

/**
 * Waits until the process is idle. Start-up leaves compile jobs on V8's background threads (with --trace-opt, a
 * TurboFan job for the CommonJS lexer's parseSource that tsx's loading triggers ran 250-400 ms), and
 * process.cpuUsage counts every thread: without the wait they were billed to the mix, a third or more of it on a
 * 2 s run. Only that start-up work is excluded: the loop's own compilation (its functions are first run inside the
 * window) is still counted.
 */
async function settled(): Promise<void> {
  const cpu = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  let c = cpu();
  // 10 ms slices until one uses under 0.5 ms of CPU (the timer's own cost is ~0.2 ms), for at most 2 s.
  for (let i = 0; i < 200; i++) {
    await new Promise((r) => setTimeout(r, 10));
    const now = cpu();
    if (now - c < 500) return;
    c = now;
  }
}

const [out, ...inputs] = process.argv.slice(2);
if (!out || inputs.length === 0) {
  console.error("usage: mix-case.ts OUT.wav IN1.wav [IN2.wav ...]");
  process.exit(2);
}
const started = performance.now();
// 400 ms per read (77 KB of a 48 kHz stereo input): one read per input every 40 frames. Measured on the race's
// 4 x 60 s inputs (8 interleaved runs each, load 13): 4,800-frame reads cost a median 51.3 ms CPU per mix,
// 19,200 37.2 ms, 48,000 38.2 ms; each read costs far more than its bytes' copy on this VM. ffmpeg buffers
// its own reads too. 48 kHz stereo inputs become passthrough sources read in place from the SIMD kernel's
// memory; other rates go through the resampler.
const CHUNK_FRAMES = 19_200;
const readers = inputs.map((p) => new WavFileReader(p, CHUNK_FRAMES));
const mixer = new Mixer();
for (const r of readers) mixer.add(mixerSource(r, { chunkFrames: CHUNK_FRAMES }));
const longest = Math.max(...readers.map((r) => Math.ceil((r.frames * 48000) / r.sampleRate)));
const frames = Math.ceil(longest / FRAME_FRAMES);
const writer = new WavWriter(out);
// The output frame in the SIMD kernel's memory, so the kernel writes it in place (no copy out of a scratch slot).
const frame = pcmArena()?.alloc(FRAME_SAMPLES) ?? allocFrame();
await settled();
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
