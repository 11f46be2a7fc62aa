// Case "mixer-vs-ffmpeg": our mixer (reference/mixer, in a fresh process per call) against
// `ffmpeg -filter_complex amix=normalize=0` on the same 4 WAV inputs, CPU time per mix; the outputs must be
// bit-identical (unity gain, int16 saturation on both sides) or the case fails whatever the speed.
// Ours counts the read + mix + write loop's CPU (process.cpuUsage), not Node's and tsx's start-up; ffmpeg's is
// its -benchmark utime + stime, start-up included (a few ms). Target: issue 12, >= 5x ffmpeg's throughput.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeInputs, runFfmpeg, runOurs, samplesHash } from "../mixer/mix-race.ts";
import type { BenchCase } from "../runner/case.ts";
import { median } from "../runner/stats.ts";

const INPUTS = 4;

export const mixerVsFfmpeg: BenchCase = {
  name: "mixer-vs-ffmpeg",
  description: `our mixer vs ffmpeg amix, ${INPUTS} inputs of 48 kHz stereo s16, CPU per mix, outputs bit-identical`,
  referenceName: "ffmpeg amix",
  unit: "ms CPU",
  higherIsBetter: false,
  target: 5,
  targetOf: "ratio",
  peers: ["ffmpeg"],
  async setup() {
    // 60 s of input in --quick too: a 20 s mix is so short (ours ~23 ms CPU) that V8 compiling the frame loop on
    // its background threads (~8 ms, counted by process.cpuUsage) decided the ratio, not the mixing (quick gave
    // 3.3-3.7x where the same code gave 6.1-6.9x on 60 s); the longer inputs cost the run under a second.
    const seconds = 60;
    const dir = mkdtempSync(join(tmpdir(), "ktv-bench-mix-"));
    const inputs = makeInputs(dir, INPUTS, seconds);
    const outOurs = join(dir, "ours.wav");
    const outFfmpeg = join(dir, "ffmpeg.wav");
    const wallOurs: number[] = [];
    const wallFfmpeg: number[] = [];
    return {
      ours() {
        const s = runOurs(inputs, outOurs);
        wallOurs.push(s.wall_ms);
        return s.cpu_ms;
      },
      reference() {
        const s = runFfmpeg(inputs, outFfmpeg);
        wallFfmpeg.push(s.wall_ms);
        return s.cpu_ms;
      },
      finish() {
        const identical = samplesHash(outOurs) === samplesHash(outFfmpeg);
        return {
          ...(identical ? {} : { failure: "outputs are NOT bit-identical to ffmpeg amix's" }),
          extra: {
            bit_identical: identical,
            audio_seconds: INPUTS * seconds,
            ours_wall_ms: Math.round(median(wallOurs)),
            ffmpeg_wall_ms: Math.round(median(wallFfmpeg)),
          },
        };
      },
      close() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};
