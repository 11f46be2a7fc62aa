import { spawnSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build, decodeFromCompressedBase64, type Histogram } from "hdr-histogram-js";
import { CaptureDevice } from "../../reference/engine/capture.ts";
import { FramePacker } from "../../reference/engine/frame-packer.ts";
import { FrameClock } from "../../reference/mixer/clock.ts";
import { allocFrame, FRAME_FRAMES, FRAME_SAMPLES } from "../../reference/mixer/frame.ts";
import { mixAt2 } from "../../reference/mixer/frame-kernel.ts";
import * as kernel from "../../reference/mixer/kernel.ts";
import { Limiter } from "../../reference/mixer/limiter.ts";
import { Mixer } from "../../reference/mixer/mixer.ts";
import { pcmArena } from "../../reference/mixer/simd-kernel.ts";
import { BufferSource, type PcmSource } from "../../reference/mixer/source.ts";
import { FrameTicker, threadTicker } from "../../reference/mixer/ticker.ts";
import {
  cpuMicros,
  deviceFrameCpu,
  frameRing,
  type Kernel2,
  renderAccompaniment,
  renderVoice,
  scalarFrameCpu,
  simdMix2Kernel,
  timeKernel as timeKernelOn,
  timeSet as timeSetOn,
} from "./publish-measures.ts";

// The publish path's own cost (issue 10, targets: <= 10 µs CPU median per 10 ms frame; >= 1,000 real-time
// mixers per core at p99.9 lateness < 5 ms). Three parts, each printed with the load average because the
// machine is shared:
//  a. CPU per 10 ms frame of one CaptureDevice's publish work (mix of 2 inputs at the pipeline's volumes,
//     accompaniment 60 + voice 100, limiter on, plus the packer's stamp), driven frame by frame through an
//     injected scheduler so no real timer runs; inputs are BufferSources over pre-rendered 48 kHz stereo, so this
//     measures the path, not the resampler. Beside it the same frames through the scalar reference
//     (accumulate + Limiter.process, today's arithmetic) and through Mixer.mix alone.
//  b. Kernel throughput on whole 10 ms frames against TypedArray.prototype.set over the same bytes.
//  c. Real-time mixers: N devices started at phases spread over one period, for a few seconds, each N in a
//     fresh process; lateness p99.9 over all device-frames. "clock" = one FrameClock (timer) per device, as the
//     CaptureDevice was before the shared ticker (with today's Mixer); "device" = CaptureDevice as it is now, on
//     the thread's ticker, inputs in the SIMD arena; "device-js" = the same with inputs in plain arrays (the JS
//     kernel); "device-1l" = "device" on a one-lane ticker (every device of the thread in one pass, as before
//     the ticker's lanes).
// Medians over interleaved rounds. CPU is process.cpuUsage (user + system), so GC threads count too.
// `npm run bench` races two of these figures as cases (bench/cases/publish.ts): "publish-cpu-per-frame" (a's
// arena device against the scalar reference) and "kernel-vs-memcpy" (b's SIMD row against set), in CPU time.
// Usage: npx tsx bench/mixer/publish-path.ts [--quick] [--parts a,b,c] [--modes clock,device,device-js]
//        [--max-n 3000] [--seconds 4] [--attempts 2] [--sweep]

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    "max-n": { type: "string" },
    seconds: { type: "string" },
    parts: { type: "string", default: "a,b,c" },
    modes: { type: "string" },
    attempts: { type: "string" },
    // Run every N even after one fails (a loaded machine fails small N for its own reasons; CPU per frame still
    // tells the capacity).
    sweep: { type: "boolean", default: false },
    "rt-child": { type: "string" }, // internal: "mode:N:seconds:warmup"
  },
});
const QUICK = values.quick;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");

// ---------------------------------------------------------------------------------------------------------
// Real-time child: N devices in this process for `seconds`, printing one JSON line.

interface RtResult {
  mode: string;
  n: number;
  expected: number;
  frames: number;
  late_frames: number;
  p50_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
  cost_p50_us: number;
  cpu_pct: number;
  /** Process CPU (all threads) per device-frame in the window, µs: the capacity figure a stall cannot skew. */
  cpu_us_per_frame: number;
  /** Event-loop delay over the window (monitorEventLoopDelay): stalls the whole process saw, e.g. from load. */
  eld_p99_ms: number;
  eld_max_ms: number;
}

/** The CaptureDevice as it was before the shared ticker: Mixer + FramePacker + one FrameClock per device. */
class ClockPerDevice {
  readonly mixer = new Mixer({ limiter: true });
  private readonly packer = new FramePacker("bench");
  private readonly captureUs = new Float64Array(1);
  private readonly stopper = new AbortController();
  readonly clock: FrameClock;
  sent = 0;
  constructor() {
    this.clock = new FrameClock({ signal: this.stopper.signal, onFrame: this.tick });
  }
  start(): void {
    void this.clock.run();
  }
  stop(): void {
    this.stopper.abort();
  }
  private readonly tick = (frame: number, deadlineMs: number): void => {
    const half = frame & 1;
    this.mixer.mix(this.packer.halves[half]!);
    if (half === 0) this.captureUs[0] = (performance.timeOrigin + deadlineMs) * 1000;
    else {
      this.packer.stamp(this.captureUs);
      this.sent++;
      this.packer.sent();
    }
  };
}

function microsHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

async function rtChild(spec: string): Promise<void> {
  const [mode = "", nStr, secStr, warmStr] = spec.split(":");
  const N = Number(nStr);
  const seconds = Number(secStr);
  const warmup = Number(warmStr);
  let acc = renderAccompaniment(seconds + warmup + 2);
  let voice = renderVoice(seconds + warmup + 2);
  if (mode === "device" || mode === "device-1l") {
    // The intended configuration: shared audio allocated in the thread's arena, mixed by the SIMD kernel.
    acc = pcmArena()!.copyOf(acc);
    voice = pcmArena()!.copyOf(voice);
  }
  const spin = (until: number) => {
    while (performance.now() < until) {
      // spread the starts over one period
    }
  };
  const lateness = microsHistogram();
  const cost = microsHistogram();
  let frames = 0;
  let lateFrames = 0;
  let stopAll: () => void;
  let resetAll: () => void;
  let collect: () => void;
  if (mode === "clock") {
    const devs = Array.from({ length: N }, () => {
      const d = new ClockPerDevice();
      d.mixer.add(new BufferSource(acc), { volume: 60 });
      d.mixer.add(new BufferSource(voice), { volume: 100 });
      return d;
    });
    const t0 = performance.now();
    devs.forEach((d, i) => {
      spin(t0 + (i * 10) / N);
      d.start();
    });
    resetAll = () => {
      for (const d of devs) {
        d.clock.lateness.reset();
        d.clock.cost.reset();
        d.clock.lateFrames = 0;
      }
    };
    collect = () => {
      for (const d of devs) {
        lateness.add(d.clock.lateness);
        cost.add(d.clock.cost);
        lateFrames += d.clock.lateFrames;
      }
      frames = lateness.totalCount;
    };
    stopAll = () => {
      for (const d of devs) d.stop();
    };
  } else {
    // "device-1l": the thread's ticker as it was before lanes (every device in one pass).
    const ticker = mode === "device-1l" ? new FrameTicker({ lanes: 1 }) : threadTicker();
    const devs = Array.from({ length: N }, () => {
      const d = new CaptureDevice({ limiter: true, ticker });
      d.mixer.add(new BufferSource(acc), { volume: 60 });
      d.setMicrophone(new BufferSource(voice));
      d.send = () => true;
      return d;
    });
    const t0 = performance.now();
    devs.forEach((d, i) => {
      spin(t0 + (i * 10) / N);
      d.start(`s${i}`);
    });
    resetAll = () => {
      ticker.drain();
    };
    collect = () => {
      const s = ticker.drain();
      lateness.add(decodeFromCompressedBase64(s.lateness));
      cost.add(decodeFromCompressedBase64(s.cost));
      frames = s.frames;
      lateFrames = s.lateFrames;
    };
    stopAll = () => {
      for (const d of devs) d.stop();
    };
  }
  await new Promise((r) => setTimeout(r, warmup * 1000));
  const eld = monitorEventLoopDelay({ resolution: 10 });
  eld.enable();
  resetAll();
  const c0 = cpuMicros();
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  collect();
  const wall = performance.now() - w0;
  const cpu = cpuMicros() - c0;
  stopAll();
  const expectedFrames = Math.round((seconds * 1000 * N) / 10);
  const r: RtResult = {
    mode,
    n: N,
    expected: expectedFrames,
    frames,
    late_frames: lateFrames,
    p50_ms: lateness.getValueAtPercentile(50) / 1000,
    p99_ms: lateness.getValueAtPercentile(99) / 1000,
    p999_ms: lateness.getValueAtPercentile(99.9) / 1000,
    max_ms: lateness.maxValue / 1000,
    cost_p50_us: cost.getValueAtPercentile(50),
    cpu_pct: (cpu / 1000 / wall) * 100,
    cpu_us_per_frame: frames > 0 ? cpu / frames : 0,
    eld_p99_ms: eld.percentile(99) / 1e6,
    eld_max_ms: eld.max / 1e6,
  };
  console.log(JSON.stringify(r));
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------------------
// a. CPU per frame of the publish work.

function partA(acc: Int16Array, voice: Int16Array): void {
  // Enough frames per round that process.cpuUsage's accounting resolution stays small against the total.
  const FRAMES = QUICK ? 4000 : 4800;
  const ROUNDS = QUICK ? 5 : 9;
  const framesAvail = Math.floor(acc.length / FRAME_SAMPLES);
  if (FRAMES > framesAvail) throw new Error("bench: buffers too short");

  const arena = pcmArena();
  if (!arena) throw new Error("bench: WebAssembly SIMD is not available here");
  const accArena = arena.copyOf(acc);
  const voiceArena = arena.copyOf(voice);
  /** A source with its in-place path hidden: the Mixer gets the frame through read(), as from a renderer. */
  const behindRead = (src: BufferSource): PcmSource => ({ read: (out) => src.read(out) });

  const device = (a: Int16Array, v: Int16Array) => (): number => deviceFrameCpu(a, v, FRAMES);
  const mixOnly =
    (a: PcmSource, v: PcmSource, volumes: [number, number] = [60, 100], simd = true) =>
    (): number => {
      const m = new Mixer({ limiter: true, simd });
      m.add(a, { volume: volumes[0] });
      m.add(v, { volume: volumes[1] });
      const out = allocFrame();
      const c0 = cpuMicros();
      for (let f = 0; f < FRAMES; f++) m.mix(out);
      return (cpuMicros() - c0) / FRAMES;
    };
  const fresh = (make: () => [PcmSource, PcmSource], volumes?: [number, number], simd?: boolean) => () =>
    mixOnly(...make(), volumes, simd)();
  // Today's arithmetic spelled out with the reference functions (copy + accumulate + Limiter.process).
  const scalarRef = (): number => scalarFrameCpu(acc, voice, FRAMES);
  const cases: [string, () => number][] = [
    ["CaptureDevice frame, inputs in the arena (SIMD)", device(accArena, voiceArena)],
    ["CaptureDevice frame, inputs in plain arrays (JS kernel)", device(acc, voice)],
    [
      "Mixer.mix, arena, in place (SIMD)",
      fresh(() => [new BufferSource(accArena), new BufferSource(voiceArena)]),
    ],
    [
      "Mixer.mix, behind read() (copy + SIMD)",
      fresh(() => [behindRead(new BufferSource(acc)), behindRead(new BufferSource(voice))]),
    ],
    [
      "Mixer.mix, plain arrays, in place (JS kernel)",
      fresh(() => [new BufferSource(acc), new BufferSource(voice)]),
    ],
    [
      "Mixer.mix, JS kernels only (simd: false)",
      fresh(() => [new BufferSource(acc), new BufferSource(voice)], [60, 100], false),
    ],
    [
      "Mixer.mix, loud 100 + 200: limiter working (JS)",
      fresh(() => [new BufferSource(acc), new BufferSource(voice)], [100, 200]),
    ],
    ["scalar reference (copy + accumulate + Limiter.process)", scalarRef],
  ];
  const got = new Map<string, number[]>(cases.map(([n]) => [n, []]));
  for (const [, fn] of cases) fn(); // warm-up round, discarded
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? [...cases].reverse() : cases;
    for (const [name, fn] of order) got.get(name)!.push(fn());
  }
  console.log(`\n## a. CPU per 10 ms frame (${FRAMES} frames x ${ROUNDS} rounds, medians; load ${load()})`);
  for (const [name] of cases) {
    const xs = got.get(name)!;
    console.log(
      `${name.padEnd(60)} ${median(xs).toFixed(2).padStart(8)} µs   (min ${Math.min(...xs).toFixed(2)})`,
    );
  }
  // How often the limiter engaged in this material: frames where the reference limiter's gain left unity.
  const lim = new Limiter();
  const accBuf = new Float64Array(FRAME_SAMPLES);
  const out = allocFrame();
  let engaged = 0;
  for (let f = 0; f < framesAvail; f++) {
    const before = lim.gain;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const k = f * FRAME_SAMPLES + i;
      accBuf[i] = acc[k]! * kernel.volumeToGain(60) + voice[k]! * kernel.volumeToGain(100);
    }
    lim.process(out, FRAME_FRAMES, accBuf);
    if (before !== kernel.UNITY_GAIN || lim.gain !== kernel.UNITY_GAIN) engaged++;
  }
  console.log(
    `(limiter below unity in ${((engaged / framesAvail) * 100).toFixed(1)}% of this material's frames)`,
  );
}

// ---------------------------------------------------------------------------------------------------------
// b. Kernel throughput vs TypedArray.prototype.set over the same bytes.

function partB(acc: Int16Array, voice: Int16Array): void {
  const CALLS = QUICK ? 20_000 : 50_000;
  const ROUNDS = QUICK ? 5 : 9;
  const ring = frameRing(acc, voice);
  const accBuf = new Float64Array(FRAME_SAMPLES);
  const lim = new Limiter();
  const lim2 = new Limiter();
  const S = FRAME_SAMPLES;
  const kernels: [string, Kernel2][] = [
    [
      "scalar accumulate x2 + Limiter.process (today, limiter on)",
      (out, a, g1, b, g2) => {
        kernel.accumulate(accBuf, S, a, g1, true);
        kernel.accumulate(accBuf, S, b, g2, false);
        lim.process(out, FRAME_FRAMES, accBuf);
      },
    ],
    ["mix2 (no limiter)", (out, a, g1, b, g2) => kernel.mix2(out, S, a, g1, b, g2)],
  ];
  // The Mixer's path with the limiter on (frame-kernel.ts): in place, peak returned, the limiter skipped when
  // the gain is at unity and the peak under the ceiling (the case for most frames of real music).
  kernels.push([
    "mixAt2 + exact limiter skip (Mixer, limiter on)",
    (out, a, g1, b, g2) => {
      if (lim2.gain !== kernel.UNITY_GAIN || mixAt2(out, S, a, 0, g1, b, 0, g2) > lim2.ceiling) {
        kernel.accumulate(accBuf, S, a, g1, true);
        kernel.accumulate(accBuf, S, b, g2, false);
        lim2.process(out, FRAME_FRAMES, accBuf);
      }
    },
  ]);
  // The SIMD kernel on the same frames, copied into the arena (WebAssembly reads only its own memory).
  const simd = simdMix2Kernel(ring);
  if (simd) kernels.push(["SIMD mix2 + exact limiter skip (Mixer, arena inputs)", simd]);
  const timeSet = (): number => timeSetOn(ring, CALLS);
  const timeKernel = (fn: Kernel2): number => timeKernelOn(ring, fn, CALLS);
  const rows = new Map<string, number[]>([
    ["set", []],
    ...kernels.map(([n]) => [n, []] as [string, number[]]),
  ]);
  timeSet();
  for (const [, fn] of kernels) timeKernel(fn);
  for (let r = 0; r < ROUNDS; r++) {
    rows.get("set")!.push(timeSet());
    for (const [name, fn] of r % 2 ? [...kernels].reverse() : kernels) rows.get(name)!.push(timeKernel(fn));
  }
  const setNs = median(rows.get("set")!);
  console.log(
    `\n## b. kernel on one 10 ms frame, 2 inputs (${CALLS} calls x ${ROUNDS} rounds, medians; load ${load()})`,
  );
  console.log(
    `${"TypedArray.set of the inputs' bytes (2 x 1920 B)".padEnd(62)} ${setNs.toFixed(0).padStart(6)} ns`,
  );
  for (const [name] of kernels) {
    const ns = median(rows.get(name)!);
    console.log(
      `${name.padEnd(62)} ${ns.toFixed(0).padStart(6)} ns   ${((setNs / ns) * 100).toFixed(1)}% of set`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// c. Real-time mixers, each N in its own process.

function partC(): void {
  const seconds = Number(values.seconds ?? (QUICK ? 2 : 4));
  const warmup = QUICK ? 1 : 1.5;
  const maxN = Number(values["max-n"] ?? (QUICK ? 1000 : 3000));
  const ATTEMPTS = Number(values.attempts ?? 2);
  const modes = (values.modes ?? "clock,device,device-js").split(",");
  const NS = [25, 50, 100, 200, 400, 700, 1000, 1500, 2000, 2500, 3000].filter((n) => n <= maxN);
  const self = fileURLToPath(import.meta.url);
  console.log(
    `\n## c. real-time mixers in one process (${seconds} s after ${warmup} s warm-up; limit p99.9 < 5 ms and >= 99% of frames)`,
  );
  console.log(
    "mode       N      frames/expected   late    p50 ms  p99 ms  p99.9 ms  max ms  cost p50 µs  CPU %  CPU µs/frame  ELD p99/max ms  load",
  );
  const runChild = (mode: string, n: number): RtResult | string => {
    const p = spawnSync(
      process.execPath,
      // A profiled bench (`npm run profile:mix`) profiles each child too.
      [
        ...process.execArgv.filter((a) => a.startsWith("--cpu-prof")),
        "--import",
        "tsx",
        self,
        "--rt-child",
        `${mode}:${n}:${seconds}:${warmup}`,
      ],
      { encoding: "utf8", timeout: (seconds + warmup + 60) * 1000 },
    );
    try {
      return JSON.parse(p.stdout.trim().split("\n").at(-1) ?? "") as RtResult;
    } catch {
      return (p.stderr || p.stdout || String(p.error)).slice(0, 300);
    }
  };
  const row = (r: RtResult): string =>
    `${r.mode.padEnd(10)} ${String(r.n).padEnd(6)} ${`${r.frames}/${r.expected}`.padEnd(17)} ${String(r.late_frames).padEnd(7)} ${r.p50_ms.toFixed(2).padStart(6)} ${r.p99_ms.toFixed(2).padStart(7)} ${r.p999_ms.toFixed(2).padStart(9)} ${r.max_ms.toFixed(1).padStart(7)} ${String(r.cost_p50_us).padStart(12)} ${r.cpu_pct.toFixed(0).padStart(6)} ${r.cpu_us_per_frame.toFixed(2).padStart(13)}  ${`${r.eld_p99_ms.toFixed(1)}/${r.eld_max_ms.toFixed(1)}`.padStart(14)}  ${load()}`;
  const ok = (r: RtResult): boolean => r.p999_ms < 5 && r.frames >= 0.99 * r.expected;
  for (const mode of modes) {
    let best = 0;
    // With --sweep, max N is still the last N of the unbroken run of passes from the smallest.
    let prevBest = 0;
    for (const n of NS) {
      // A shared machine stalls whole processes now and then (see ELD); a failed N gets more tries.
      let passed = false;
      for (let attempt = 0; attempt < ATTEMPTS && !passed; attempt++) {
        const r = runChild(mode, n);
        if (typeof r === "string") {
          console.log(`${mode.padEnd(10)} ${String(n).padEnd(6)} failed: ${r}`);
          break;
        }
        console.log(row(r));
        passed = ok(r);
      }
      if (passed && best === prevBest) best = n;
      prevBest = passed ? best : -1;
      if (!passed && !values.sweep) break;
    }
    console.log(`${mode}: max N under 5 ms p99.9 = ${best}${best === NS.at(-1) ? " (cap reached)" : ""}`);
  }
}

// ---------------------------------------------------------------------------------------------------------

if (values["rt-child"]) {
  await rtChild(values["rt-child"]);
} else {
  console.log(
    `publish-path bench${QUICK ? " (quick)" : ""}: Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? "?"}, load ${load()}`,
  );
  const acc = renderAccompaniment(50);
  const voice = renderVoice(50);
  const parts = new Set(values.parts.split(","));
  if (parts.has("a")) partA(acc, voice);
  if (parts.has("b")) partB(acc, voice);
  if (parts.has("c")) partC();
}
