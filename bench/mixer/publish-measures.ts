// The measurements of the publish path, shared by bench/mixer/publish-path.ts (parts a and b) and the bench
// runner's cases "publish-cpu-per-frame" and "kernel-vs-memcpy" (bench/cases/publish.ts): the material
// (a loud-ish accompaniment and a voice, pre-rendered at 48 kHz stereo), CPU per 10 ms frame of a
// CaptureDevice and of the scalar reference arithmetic, and the SIMD kernel's time on whole frames against
// TypedArray.prototype.set over the same bytes.

import { CaptureDevice } from "../../reference/engine/capture.ts";
import { allocFrame, FRAME_FRAMES, FRAME_SAMPLES, SAMPLE_RATE } from "../../reference/mixer/frame.ts";
import * as kernel from "../../reference/mixer/kernel.ts";
import { Limiter } from "../../reference/mixer/limiter.ts";
import { simdKernel } from "../../reference/mixer/simd-kernel.ts";
import { BufferSource } from "../../reference/mixer/source.ts";
import { SlotTime } from "../../reference/mixer/virtual-time.ts";
import { type PitchNote, VoiceSource } from "../../reference/mixer/voice.ts";

const PITCH: PitchNote[] = Array.from({ length: 200 }, (_, i) => ({
  begin_time: i * 300,
  duration: 260,
  value: 48 + ((i * 7) % 24),
}));

/** `seconds` of a loud-ish accompaniment: two detuned saws and a slow swell, peaks near full scale sometimes. */
export function renderAccompaniment(seconds: number): Int16Array {
  const n = seconds * SAMPLE_RATE;
  const pcm = new Int16Array(n * 2);
  let p1 = 0;
  let p2 = 0;
  for (let i = 0; i < n; i++) {
    p1 = (p1 + (220 * 65536) / SAMPLE_RATE) % 65536;
    p2 = (p2 + (331 * 65536) / SAMPLE_RATE) % 65536;
    // Swell between 0.45 and 1.0 of full scale over 7 s, so the sum with the voice crosses the limiter's
    // threshold in some stretches and not in others (the pipeline's real mix does both).
    const swell = 0.5 + 0.75 * (0.5 + 0.5 * Math.sin((2 * Math.PI * i) / (7 * SAMPLE_RATE)));
    const v = ((p1 - 32768) * 0.5 + (p2 - 32768) * 0.45) * swell;
    pcm[2 * i] = Math.max(-32768, Math.min(32767, Math.round(v)));
    pcm[2 * i + 1] = Math.max(-32768, Math.min(32767, Math.round(v * 0.9)));
  }
  return pcm;
}

export function renderVoice(seconds: number): Int16Array {
  const v = new VoiceSource(PITCH, { seed: 11 });
  const frames = (seconds * 1000) / 10;
  const pcm = new Int16Array(frames * FRAME_SAMPLES);
  const buf = allocFrame();
  for (let f = 0; f < frames; f++) {
    v.read(buf);
    pcm.set(buf, f * FRAME_SAMPLES);
  }
  return pcm;
}

export function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/**
 * CPU µs per 10 ms frame of one CaptureDevice's publish work (mix of accompaniment 60 + voice 100, limiter on,
 * packet stamp), `frames` frames driven through virtual time so no real timer runs.
 */
export function deviceFrameCpu(acc: Int16Array, voice: Int16Array, frames: number): number {
  const vt = new SlotTime();
  const d = new CaptureDevice({ limiter: true, now: vt.now, scheduler: vt.scheduler });
  d.mixer.add(new BufferSource(acc), { volume: 60 });
  d.setMicrophone(new BufferSource(voice));
  let sent = 0;
  d.send = () => {
    sent++;
    return true;
  };
  d.start("bench");
  const c0 = cpuMicros();
  vt.run(frames);
  const c = cpuMicros() - c0;
  d.stop();
  if (sent !== frames / 2) throw new Error(`bench: expected ${frames / 2} packets, got ${sent}`);
  return c / frames;
}

/**
 * CPU µs per frame of the same mix by the scalar reference arithmetic: copy each input's frame (as
 * BufferSource did), accumulate in Float64, Limiter.process.
 */
export function scalarFrameCpu(acc: Int16Array, voice: Int16Array, frames: number): number {
  const a = new BufferSource(acc);
  const b = new BufferSource(voice);
  const ba = allocFrame();
  const bb = allocFrame();
  const accBuf = new Float64Array(FRAME_SAMPLES);
  const lim = new Limiter();
  const ga = kernel.volumeToGain(60);
  const gb = kernel.volumeToGain(100);
  const out = allocFrame();
  const c0 = cpuMicros();
  for (let f = 0; f < frames; f++) {
    a.read(ba);
    b.read(bb);
    kernel.accumulate(accBuf, FRAME_SAMPLES, ba, ga, true);
    kernel.accumulate(accBuf, FRAME_SAMPLES, bb, gb, false);
    lim.process(out, FRAME_FRAMES, accBuf);
  }
  return (cpuMicros() - c0) / frames;
}

export type Kernel2 = (
  out: Int16Array,
  a: Int16Array,
  ga: number,
  b: Int16Array,
  gb: number,
  k: number,
) => void;

/** 64 distinct frames of each input (so the figures are not one frame's branch pattern) and both side by side. */
export interface FrameRing {
  as: Int16Array[];
  bs: Int16Array[];
  both: Int16Array[];
  dst: Int16Array;
  out: Int16Array;
}

export const RING = 64;

export function frameRing(acc: Int16Array, voice: Int16Array): FrameRing {
  const as = Array.from({ length: RING }, (_, k) => acc.slice(k * FRAME_SAMPLES, (k + 1) * FRAME_SAMPLES));
  const bs = Array.from({ length: RING }, (_, k) => voice.slice(k * FRAME_SAMPLES, (k + 1) * FRAME_SAMPLES));
  const both = Array.from({ length: RING }, (_, k) => {
    const x = new Int16Array(2 * FRAME_SAMPLES);
    x.set(as[k]!, 0);
    x.set(bs[k]!, FRAME_SAMPLES);
    return x;
  });
  // The output frame in the SIMD kernel's memory when there is one, as a Mixer's caller can place it (mix-case.ts):
  // the kernel then writes it in place instead of through a scratch slot and a copy. The JS kernels do not care.
  const out = simdKernel()?.arena.alloc(FRAME_SAMPLES) ?? allocFrame();
  return { as, bs, both, dst: new Int16Array(2 * FRAME_SAMPLES), out };
}

/** ns per call of TypedArray.prototype.set copying both inputs' bytes of one frame (2 x 1920 B). */
export function timeSet(ring: FrameRing, calls: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) ring.dst.set(ring.both[i & (RING - 1)]!);
  return Number(process.hrtime.bigint() - t0) / calls;
}

/** ns per call of a 2-input kernel over the ring at the pipeline's volumes (60 + 100). */
export function timeKernel(ring: FrameRing, fn: Kernel2, calls: number): number {
  const ga = kernel.volumeToGain(60);
  const gb = kernel.volumeToGain(100);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) {
    const k = i & (RING - 1);
    fn(ring.out, ring.as[k]!, ga, ring.bs[k]!, gb, k);
  }
  return Number(process.hrtime.bigint() - t0) / calls;
}

/**
 * The Mixer's SIMD path on the ring's frames (copied into the arena: WebAssembly reads only its own memory):
 * mix2 with the exact limiter skip, the limiter run only on frames that need it. Null without WebAssembly SIMD.
 */
export function simdMix2Kernel(ring: FrameRing): Kernel2 | null {
  const simd = simdKernel();
  if (!simd) return null;
  const addrA = ring.as.map((x) => simd.arena.copyOf(x).byteOffset);
  const addrB = ring.bs.map((x) => simd.arena.copyOf(x).byteOffset);
  const lim = new Limiter();
  const accBuf = new Float64Array(FRAME_SAMPLES);
  const S = FRAME_SAMPLES;
  // A local: read through the namespace import, the constant is a getter call per frame under tsx.
  const UNITY = kernel.UNITY_GAIN;
  return (out, a, g1, b, g2, k) => {
    if (lim.gain !== UNITY || simd.mix2(out, addrA[k]!, g1, addrB[k]!, g2) > lim.ceiling) {
      kernel.accumulate(accBuf, S, a, g1, true);
      kernel.accumulate(accBuf, S, b, g2, false);
      lim.process(out, FRAME_FRAMES, accBuf);
    }
  };
}
