// The pieces of the mixer-vs-ffmpeg race, shared by the standalone script (mixer-vs-ffmpeg.ts) and the bench
// runner's case (bench/cases/mixer-ffmpeg.ts): deterministic inputs, one run of our mixer in a fresh process,
// one run of `ffmpeg -filter_complex amix`, and a hash of a WAV's samples to prove the outputs identical.
// Both mix at unity with int16 saturation (amix normalize=0), so the outputs must be sample-identical.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { WavWriter } from "../../reference/mixer/wav.ts";
import { WavFileReader } from "../../reference/mixer/wav-reader.ts";

const here = fileURLToPath(new URL(".", import.meta.url));

/** K deterministic inputs of T seconds: detuned saws, loud enough that the sum saturates sometimes. */
export function makeInputs(dir: string, k: number, seconds: number): string[] {
  const paths: string[] = [];
  const frame = new Int16Array(48000 * 2); // one second at a time: never a whole file in memory
  for (let n = 0; n < k; n++) {
    const path = join(dir, `in${n}.wav`);
    const w = new WavWriter(path);
    let phase = n * 7919;
    for (let s = 0; s < seconds; s++) {
      for (let i = 0; i < 48000; i++) {
        phase = (phase + 110 * (n + 1) * 89 + (i & 255)) % 4_800_000;
        const v = ((phase / 4_800_000) * 2 - 1) * (9000 + 1000 * n);
        frame[2 * i] = v | 0;
        frame[2 * i + 1] = (-v * 0.8) | 0;
      }
      w.write(frame);
    }
    w.close();
    paths.push(path);
  }
  return paths;
}

export function samplesHash(path: string): string {
  const r = new WavFileReader(path, 48000);
  const buf = new Int16Array(48000 * r.channels);
  const h = createHash("sha256");
  for (let n = r.read(buf, 48000); n > 0; n = r.read(buf, 48000)) {
    h.update(new Uint8Array(buf.buffer, 0, n * r.channels * 2));
  }
  r.close();
  return h.digest("hex");
}

export interface MixSample {
  wall_ms: number;
  /** The read + mix + write loop's wall time (ours) / ffmpeg's -benchmark rtime. */
  work_ms: number;
  /** CPU (user + system) of the loop (ours) / of the whole ffmpeg process (its -benchmark utime + stime). */
  cpu_ms: number;
}

export function runOurs(inputs: string[], out: string): MixSample {
  const t0 = performance.now();
  // Run from the repository root so `--import tsx` resolves wherever the benchmark was started from.
  const p = spawnSync(process.execPath, ["--import", "tsx", join(here, "mix-case.ts"), out, ...inputs], {
    encoding: "utf8",
    cwd: join(here, "..", ".."),
  });
  const wall = performance.now() - t0;
  if (p.status !== 0) throw new Error(`our mixer failed: ${p.stderr}`);
  const r = JSON.parse(p.stdout.trim().split("\n").at(-1)!) as { mix_ms: number; cpu_ms: number };
  return { wall_ms: wall, work_ms: r.mix_ms, cpu_ms: r.cpu_ms };
}

export function runFfmpeg(inputs: string[], out: string): MixSample {
  const args = ["-nostdin", "-hide_banner", "-loglevel", "info", "-benchmark", "-y"];
  for (const i of inputs) args.push("-i", i);
  args.push(
    "-filter_complex",
    `amix=inputs=${inputs.length}:normalize=0:duration=longest`,
    "-c:a",
    "pcm_s16le",
    out,
  );
  const t0 = performance.now();
  const p = spawnSync("ffmpeg", args, { encoding: "utf8" });
  const wall = performance.now() - t0;
  if (p.status !== 0) throw new Error(`ffmpeg failed: ${p.stderr}`);
  const m = /bench: utime=([\d.]+)s stime=([\d.]+)s rtime=([\d.]+)s/.exec(p.stderr);
  if (!m) throw new Error("ffmpeg printed no -benchmark line");
  return {
    wall_ms: wall,
    work_ms: Number(m[3]) * 1000,
    cpu_ms: (Number(m[1]) + Number(m[2])) * 1000,
  };
}
