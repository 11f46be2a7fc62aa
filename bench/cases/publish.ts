// Cases "publish-cpu-per-frame" and "kernel-vs-memcpy": the publish path's cost in this process (issue 10's
// targets), measured by bench/mixer/publish-measures.ts on pre-rendered 48 kHz stereo material.
// Both count CPU time (process.cpuUsage), not wall time, so a busy machine's preemption does not inflate them.

import { pcmArena } from "../../reference/mixer/simd-kernel.ts";
import {
  cpuMicros,
  deviceFrameCpu,
  frameRing,
  renderAccompaniment,
  renderVoice,
  scalarFrameCpu,
  simdMix2Kernel,
  timeKernel,
  timeSet,
} from "../mixer/publish-measures.ts";
import type { BenchCase } from "../runner/case.ts";

let material: { acc: Int16Array; voice: Int16Array } | undefined;
/** 50 s of each input, rendered once per process (both cases read it). */
function shared(): { acc: Int16Array; voice: Int16Array } {
  material ??= { acc: renderAccompaniment(50), voice: renderVoice(50) };
  return material;
}

export const publishCpuPerFrame: BenchCase = {
  name: "publish-cpu-per-frame",
  description:
    "CPU per 10 ms frame of a CaptureDevice (2 inputs at 60/100, limiter on, packet; SIMD, arena inputs) vs the scalar kernel (copy + accumulate + Limiter.process)",
  referenceName: "scalar kernel",
  unit: "µs CPU/frame",
  higherIsBetter: false,
  target: 10,
  targetOf: "ours",
  rounds: { quick: 5, full: 9 },
  async setup({ quick }) {
    // Enough frames per call that process.cpuUsage's resolution stays small against the total (~2 ms).
    const frames = quick ? 4000 : 4800;
    const { acc, voice } = shared();
    const arena = pcmArena();
    if (!arena) throw new Error("WebAssembly SIMD is not available in this Node");
    const accArena = arena.copyOf(acc);
    const voiceArena = arena.copyOf(voice);
    // Warm-up, discarded: both paths through the JIT's tiers before the first measured round (one call was
    // not enough: the first round came out ~25x slower).
    for (let i = 0; i < 3; i++) {
      deviceFrameCpu(accArena, voiceArena, frames);
      scalarFrameCpu(acc, voice, frames);
    }
    return {
      ours: () => deviceFrameCpu(accArena, voiceArena, frames),
      reference: () => scalarFrameCpu(acc, voice, frames),
    };
  },
};

export const kernelVsMemcpy: BenchCase = {
  name: "kernel-vs-memcpy",
  description:
    "the Mixer's SIMD mix2 + exact limiter skip on one 10 ms frame of 2 inputs vs TypedArray.set over the same bytes (memcpy)",
  referenceName: "TypedArray.set",
  unit: "ns CPU/frame",
  higherIsBetter: false,
  target: 0.4,
  targetOf: "ratio",
  rounds: { quick: 5, full: 9 },
  async setup({ quick }) {
    const calls = quick ? 40_000 : 100_000;
    const { acc, voice } = shared();
    const ring = frameRing(acc, voice);
    const simd = simdMix2Kernel(ring);
    if (!simd) throw new Error("WebAssembly SIMD is not available in this Node");
    const cpuNs = (work: () => unknown): number => {
      const c0 = cpuMicros();
      work();
      return ((cpuMicros() - c0) * 1000) / calls;
    };
    timeSet(ring, calls);
    timeKernel(ring, simd, calls);
    return {
      ours: () => cpuNs(() => timeKernel(ring, simd, calls)),
      reference: () => cpuNs(() => timeSet(ring, calls)),
    };
  },
};
