import { createHash } from "node:crypto";
import { Session } from "node:inspector/promises";
import { describe, expect, it } from "vitest";
import { decodeFrameHeader, FrameFlag } from "../../protocol/media.ts";
import type { Scheduler } from "../mixer/clock.ts";
import { FRAME_SAMPLES } from "../mixer/frame.ts";
import type { PcmSource } from "../mixer/source.ts";
import { FrameTicker } from "../mixer/ticker.ts";
import { SlotTime, VirtualTime } from "../mixer/virtual-time.ts";
import { type PitchNote, VoiceSource } from "../mixer/voice.ts";
import { CaptureDevice } from "./capture.ts";

// The publish path without a socket: mixer + clock + packer, on simulated time so lateness is under the test's
// control. What is published must depend on the frame index only, and a packet must cost no allocation.

const PITCH: PitchNote[] = Array.from({ length: 400 }, (_, i) => ({
  begin_time: i * 250,
  duration: 200,
  value: 45 + ((i * 5) % 30),
}));

/** An endless "accompaniment": a saw wave, integer-only, allocation-free. */
class Saw implements PcmSource {
  private t = 0;
  read(out: Int16Array): number {
    for (let i = 0; i < FRAME_SAMPLES; i += 2) {
      const v = ((this.t * 331) % 48_000) - 24_000;
      out[i] = v >> 1;
      out[i + 1] = v >> 2;
      this.t++;
    }
    return FRAME_SAMPLES / 2;
  }
}

interface SamplingNode {
  callFrame: { functionName: string };
  selfSize: number;
  children: SamplingNode[];
}

function device(
  vt: { now: () => number; scheduler: Scheduler },
  mic: PcmSource = new VoiceSource(PITCH, { seed: 7 }),
) {
  const d = new CaptureDevice({ now: vt.now, scheduler: vt.scheduler });
  d.mixer.add(new Saw(), { volume: 60 });
  d.setMicrophone(mic);
  return d;
}

/** Runs `frames` mixer frames; `spend(n)` is the simulated CPU time frame n takes. Returns packets and mix. */
function publish(frames: number, spend: (n: number) => number) {
  const vt = new VirtualTime();
  const d = device(vt);
  const packets: Buffer[] = [];
  const mixed = createHash("sha256");
  d.send = (p) => {
    packets.push(Buffer.from(p));
    return true;
  };
  d.onMixed = (pcm, n) => {
    mixed.update(pcm);
    vt.spend(spend(n));
    if (n + 1 === frames) d.stop();
  };
  d.start("st");
  vt.run(frames * 4);
  return { packets, mixed: mixed.digest("hex"), stats: d.stats() };
}

describe("CaptureDevice", () => {
  it("publishes the same samples however late the ticks run, stamped with the frames' deadlines", () => {
    const onTime = publish(300, () => 0.5);
    // Stalls of 45 ms every 50 frames: the clock catches up back-to-back, nothing is skipped.
    const late = publish(300, (n) => (n % 50 === 7 ? 45 : 0.5));
    expect(late.stats.lateFrames).toBeGreaterThan(0);
    expect(onTime.stats.lateFrames).toBe(0);
    // Counters only by default: no per-device percentiles (the thread's ticker has the histograms).
    expect(late.stats.clock).toBeNull();
    expect(late.mixed).toBe(onTime.mixed);
    expect(late.packets.length).toBe(150);
    const payloads = (ps: Buffer[]) => ps.map((p) => p.subarray(32).toString("hex"));
    expect(payloads(late.packets)).toEqual(payloads(onTime.packets));
    const headers = late.packets.map((p) => decodeFrameHeader(p));
    expect(headers.map((h) => h.seq)).toEqual([...Array(150).keys()]);
    expect(headers[0]!.flags).toBe(FrameFlag.Discontinuity);
    // Capture time is the first frame's deadline (start + 20 ms per packet), not when the tick ran.
    const t0 = headers[0]!.captureUs;
    expect(headers.map((h) => h.captureUs - t0)).toEqual(headers.map((_, k) => k * 20_000));
    expect(late.stats).toMatchObject({ framesMixed: 300, packetsSent: 150, packetsDropped: 0, error: null });
  });

  it("many devices on one ticker publish the same bytes on time or after stalls, each on the shared grid", () => {
    /** Four devices on one ticker; device k starts k·3 ms after the first; `spend` stalls inside frames. */
    function run(spend: (k: number, n: number) => number) {
      const vt = new VirtualTime();
      const ticker = new FrameTicker({ now: vt.now, scheduler: vt.scheduler });
      const out = [0, 1, 2, 3].map(() => ({ hash: createHash("sha256"), captures: [] as number[] }));
      const devices = out.map((o, k) => {
        const d = new CaptureDevice({ ticker });
        d.mixer.add(new Saw(), { volume: 60 });
        d.setMicrophone(new VoiceSource(PITCH, { seed: k }));
        d.send = (p) => {
          o.captures.push(decodeFrameHeader(p).captureUs);
          return true;
        };
        d.onMixed = (pcm, n) => {
          o.hash.update(pcm);
          vt.spend(spend(k, n));
          if (n === 199) d.stop(); // each device stops itself inside its own frame
        };
        return d;
      });
      devices.forEach((d, k) => {
        vt.scheduler.setTimeout(() => d.start(`s${k}`), k * 3);
      });
      vt.run(100_000);
      return { out: out.map((o) => ({ hash: o.hash.digest("hex"), captures: o.captures })), ticker, devices };
    }
    const onTime = run(() => 0.05);
    const stalled = run((k, n) => (k === 1 && n % 40 === 5 ? 35 : 0.05));
    expect(stalled.out.map((o) => o.hash)).toEqual(onTime.out.map((o) => o.hash));
    expect(stalled.devices.map((d) => d.stats().framesMixed)).toEqual([200, 200, 200, 200]);
    expect(stalled.devices.some((d) => d.stats().lateFrames > 0)).toBe(true);
    expect(onTime.devices.map((d) => d.stats().lateFrames)).toEqual([0, 0, 0, 0]);
    // Capture times are the frames' deadlines: the same with or without stalls, 20 ms apart, and every
    // device's on the one 10 ms grid (the later starters joined at the next deadline, not at their start).
    expect(stalled.out.map((o) => o.captures)).toEqual(onTime.out.map((o) => o.captures));
    // (µs floored from an epoch-based float: within 1 µs of the exact grid.)
    const t0 = onTime.out[0]!.captures[0]!;
    for (const o of onTime.out) {
      expect(o.captures.length).toBe(100);
      for (let i = 1; i < o.captures.length; i++)
        expect(Math.abs(o.captures[i]! - o.captures[i - 1]! - 20_000)).toBeLessThanOrEqual(1);
    }
    expect(onTime.out.map((o) => Math.round((o.captures[0]! - t0) / 1000))).toEqual([0, 10, 10, 10]);
    expect(onTime.ticker.size).toBe(0);
  });

  it("counts packets it could not send, and restarts the sequence with the flag", () => {
    const vt = new VirtualTime();
    const d = device(vt);
    const seqs: [number, number][] = [];
    let up = true;
    d.send = (p) => {
      if (!up) return false;
      const h = decodeFrameHeader(p);
      seqs.push([h.seq, h.flags]);
      return true;
    };
    d.onMixed = (_pcm, n) => {
      if (n === 9) up = false;
      if (n === 19) {
        up = true;
        d.restartSequence();
      }
      if (n === 29) d.stop();
    };
    d.start("st");
    vt.run(200);
    expect(d.stats()).toMatchObject({ framesMixed: 30, packetsSent: 10, packetsDropped: 5 });
    expect(seqs).toEqual([
      [0, 1],
      [1, 0],
      [2, 0],
      [3, 0],
      [4, 0],
      [0, 1],
      [1, 0],
      [2, 0],
      [3, 0],
      [4, 0],
    ]);
  });

  it("stops with an error when a handler throws, instead of failing silently", () => {
    const vt = new VirtualTime();
    const d = device(vt);
    d.send = () => true;
    d.onMixed = (_pcm, n) => {
      if (n === 3) throw new Error("disk full");
    };
    d.start("st");
    vt.run(100);
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        expect(d.running).toBe(false);
        expect(d.stats().error).toBe("disk full");
        resolve();
      }),
    );
  });

  it("allocates nothing per frame in steady state (clock tick + mix + packet)", async () => {
    // One pending timer at a time, no allocation: so the measurement sees only the publish path.
    const slot = new SlotTime();
    // The microphone is a second saw: the voice's own steady state is mixer/mix-chain.test.ts's to prove.
    const d = device({ now: slot.now, scheduler: slot.scheduler }, new Saw());
    let sent = 0;
    d.send = () => {
      sent++;
      return true;
    };
    const publishFrames = (n: number) => slot.run(n);
    d.start("st");
    publishFrames(6000); // warm up: optimised code keeps numbers unboxed
    // V8's sampling heap profiler sees every allocation (collected ones included) with its stack; only what
    // happened inside publishFrames counts, so the test runner's own allocations do not.
    const FRAMES = 4000;
    const session = new Session();
    session.connect();
    let bytes = 0;
    try {
      await session.post("HeapProfiler.startSampling", {
        samplingInterval: 16,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
      publishFrames(FRAMES);
      const { profile } = await session.post("HeapProfiler.stopSampling");
      const walk = (n: SamplingNode, inside: boolean): void => {
        const here = inside || n.callFrame.functionName === "publishFrames";
        if (here) bytes += n.selfSize;
        for (const c of n.children) walk(c, here);
      };
      walk(profile.head, false);
    } finally {
      session.disconnect();
      d.stop();
    }
    expect(sent).toBe((6000 + FRAMES) / 2);
    // One 16-byte object per frame would be 64 KB here; a re-optimisation may leave a few boxed numbers.
    expect(bytes / FRAMES).toBeLessThan(2);
  });
});
