import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, platform, release, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { makeInputs, runFfmpeg, runOurs, type MixSample as Sample, samplesHash } from "./mix-race.ts";

// Races our mixer against `ffmpeg -filter_complex amix` on the same K inputs of T seconds (48 kHz stereo s16).
// Each case runs in a fresh process; cases alternate (ABAB, then BABA) over several rounds; medians are
// printed with the machine. Both mix at unity with int16 saturation (amix normalize=0), so the outputs must be
// sample-identical, and that is checked too.
// `npm run bench` runs the same race as its case "mixer-vs-ffmpeg" (bench/cases/mixer-ffmpeg.ts).
// Usage: npx tsx bench/mixer/mixer-vs-ffmpeg.ts [--inputs 4] [--seconds 60] [--rounds 5]

const { values } = parseArgs({
  options: {
    inputs: { type: "string", default: "4" },
    seconds: { type: "string", default: "60" },
    rounds: { type: "string", default: "5" },
  },
});
const K = Number(values.inputs);
const T = Number(values.seconds);
const ROUNDS = Number(values.rounds);
for (const [name, v, max] of [
  ["inputs", K, 32],
  ["seconds", T, 3600],
  ["rounds", ROUNDS, 50],
] as const) {
  if (!Number.isInteger(v) || v < 1 || v > max) {
    console.error(`--${name} must be an integer in 1..${max}`);
    process.exit(2);
  }
}

const ffmpegVersion = spawnSync("ffmpeg", ["-hide_banner", "-version"], { encoding: "utf8" });
if (ffmpegVersion.error || ffmpegVersion.status !== 0) {
  console.error(
    "ffmpeg was not found on PATH; this benchmark races against it.\n" +
      "Install it (Debian/Ubuntu): apt-get update && apt-get install -y ffmpeg",
  );
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), "ktv-mixbench-"));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

try {
  const cpu = cpus();
  console.log(
    `machine: ${cpu.length} x ${cpu[0]?.model ?? "?"}, ${platform()} ${release()}, node ${process.version}, ` +
      `load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
  );
  console.log(`ffmpeg:  ${ffmpegVersion.stdout.split("\n")[0]}`);
  console.log(
    `case:    ${K} inputs x ${T} s, 48 kHz stereo s16 -> one WAV; ${ROUNDS} rounds, fresh process each\n`,
  );
  const inputs = makeInputs(dir, K, T);
  const ours: Sample[] = [];
  const theirs: Sample[] = [];
  const outOurs = join(dir, "ours.wav");
  const outFfmpeg = join(dir, "ffmpeg.wav");
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? ["ours", "ffmpeg"] : ["ffmpeg", "ours"];
    for (const c of order) {
      if (c === "ours") ours.push(runOurs(inputs, outOurs));
      else theirs.push(runFfmpeg(inputs, outFfmpeg));
    }
    const o = ours.at(-1)!;
    const f = theirs.at(-1)!;
    console.log(
      `round ${r + 1}: ours ${o.work_ms.toFixed(0)} ms work / ${o.wall_ms.toFixed(0)} ms wall; ` +
        `ffmpeg ${f.work_ms.toFixed(0)} ms work / ${f.wall_ms.toFixed(0)} ms wall`,
    );
  }
  const identical = samplesHash(outOurs) === samplesHash(outFfmpeg);
  const ow = median(ours.map((s) => s.work_ms));
  const fw = median(theirs.map((s) => s.work_ms));
  const oW = median(ours.map((s) => s.wall_ms));
  const fW = median(theirs.map((s) => s.wall_ms));
  const audioS = K * T;
  console.log("\n| case | median work (ms) | median wall (ms) | audio-seconds mixed per second of work |");
  console.log("|---|---|---|---|");
  console.log(
    `| ours (reference/mixer) | ${ow.toFixed(0)} | ${oW.toFixed(0)} | ${((audioS * 1000) / ow).toFixed(0)} |`,
  );
  console.log(`| ffmpeg amix | ${fw.toFixed(0)} | ${fW.toFixed(0)} | ${((audioS * 1000) / fw).toFixed(0)} |`);
  console.log(
    `\nratio ours/ffmpeg: work ${(ow / fw).toFixed(2)}x, wall ${(oW / fW).toFixed(2)}x ` +
      "(work = read + mix + write loop; ffmpeg's is its -benchmark rtime; wall includes process start-up)",
  );
  console.log(`outputs sample-identical: ${identical ? "yes" : "NO"}`);
  if (!identical) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
