import { type ClockHistograms, type ClockReport, FrameClock, type Scheduler } from "../mixer/clock.ts";
import { Mixer } from "../mixer/mixer.ts";
import type { PcmSource } from "../mixer/source.ts";
import type { MixedAudioHandler } from "./events.ts";
import { FRAMES_PER_PACKET, FramePacker } from "./frame-packer.ts";

// The engine's audio path while publishing: the publish mixer (media players via enableAux, the microphone),
// driven by a drift-corrected FrameClock. Each tick mixes one 10 ms frame into the next half of the packet
// buffer; every second tick the packet is stamped (capture time = the first frame's deadline) and handed to
// `send`. Frames are a function of the frame index only, never of when a tick ran, so a late tick changes
// timing, not samples.
//
// Per-frame work allocates nothing here: mixer, packer and handlers reuse their buffers. (Node's timer object
// per tick and the ws library's masked copy per send are allocations outside this code.)

/** performance.timeOrigin is a getter that returns a fresh number each call: read it once. */
const TIME_ORIGIN_MS = performance.timeOrigin;

export interface CaptureStats {
  /** 10 ms frames mixed since publishing started. */
  framesMixed: number;
  packetsSent: number;
  /** Packets that could not go out (socket down or backed up): real-time audio is dropped, never queued. */
  packetsDropped: number;
  /** The clock's lateness and mix-cost percentiles (null before the first start). */
  clock: ClockReport | null;
  /** Set when a tick threw and stopped the clock. */
  error: string | null;
}

export class CaptureDevice {
  readonly mixer: Mixer;
  /** Where packets go; false from `send` counts the packet as dropped. */
  send: ((packet: Uint8Array) => boolean) | null = null;
  /** Called after each mixed 10 ms frame (after its packet, if it completed one, was sent). */
  onMixed: MixedAudioHandler | null = null;
  private readonly packer = new FramePacker();
  private micInput: number | null = null;
  private micVolume = 100;
  private micMuted = false;
  private clock: FrameClock | null = null;
  private stopClock: AbortController | null = null;
  /** Why the clock stopped on its own (a tick threw), or null. */
  private failure: string | null = null;
  /** Capture time of the packet being filled, µs. A typed-array slot: storing a float there never boxes it. */
  private readonly captureUs = new Float64Array(1);
  private framesMixed = 0;
  private packetsSent = 0;
  private packetsDropped = 0;
  private lastReport: ClockReport | null = null;
  private lastClock: FrameClock | null = null;
  private inTick = false;

  constructor(
    private readonly opts: {
      limiter?: boolean;
      /** The clock's time base and timers (tests run it on simulated time); default performance.now + Node. */
      now?: () => number;
      scheduler?: Scheduler;
    } = {},
  ) {
    this.mixer = new Mixer({ limiter: opts.limiter ?? true });
  }

  get running(): boolean {
    return this.clock !== null;
  }

  /** Packets sent since publishing started (cheap: no report is built). */
  get sentPackets(): number {
    return this.packetsSent;
  }

  /** The microphone input: a PcmSource (the pipeline's VoiceSource), or null for none. */
  setMicrophone(source: PcmSource | null): void {
    if (this.micInput !== null) this.mixer.remove(this.micInput);
    this.micInput =
      source === null ? null : this.mixer.add(source, { volume: this.micVolume, muted: this.micMuted });
  }

  /** Capture volume 0..200 (RangeError outside; the engine maps it to 1000017). */
  setMicrophoneVolume(volume: number): void {
    if (this.micInput !== null) this.mixer.setVolume(this.micInput, volume);
    this.micVolume = volume;
  }

  muteMicrophone(mute: boolean): void {
    this.micMuted = mute;
    if (this.micInput !== null) this.mixer.setMuted(this.micInput, mute);
  }

  /** Starts the clock for stream `streamID` (packets numbered from 0); no-op when running. */
  start(streamID: string): void {
    if (this.clock) return;
    this.packer.setStream(streamID);
    this.framesMixed = 0;
    this.packetsSent = 0;
    this.packetsDropped = 0;
    const stop = new AbortController();
    this.stopClock = stop;
    const clock = new FrameClock({
      signal: stop.signal,
      onFrame: this.tick,
      ...(this.opts.now ? { now: this.opts.now } : {}),
      ...(this.opts.scheduler ? { scheduler: this.opts.scheduler } : {}),
    });
    this.clock = clock;
    this.failure = null;
    this.clock.run().catch((err: unknown) => {
      // A tick threw (a handler, a source): the clock has stopped; publishing reports why.
      this.failure = err instanceof Error ? err.message : String(err);
      if (this.clock === clock) this.stop();
    });
  }

  /** Next packet starts a new sequence with the DISCONTINUITY flag (after a re-publish). */
  restartSequence(): void {
    this.packer.restart();
  }

  /** Stops the clock at once (no tick runs after this returns) and returns its report. Idempotent. */
  stop(): ClockReport | null {
    const clock = this.clock;
    if (!clock) return this.lastReport;
    this.clock = null;
    this.stopClock?.abort();
    this.stopClock = null;
    this.lastReport = clock.report();
    this.lastClock = clock;
    // Stopped from inside a tick (a handler): the clock counts that frame once the tick returns, so the final
    // report is taken after it.
    if (this.inTick) {
      queueMicrotask(() => {
        this.lastReport = clock.report();
      });
    }
    return this.lastReport;
  }

  stats(): CaptureStats {
    return {
      framesMixed: this.framesMixed,
      packetsSent: this.packetsSent,
      packetsDropped: this.packetsDropped,
      clock: this.clock ? this.clock.report() : this.lastReport,
      error: this.failure,
    };
  }

  /** The running or last clock's lateness and cost histograms, encoded (null before the first start). */
  histograms(): ClockHistograms | null {
    return (this.clock ?? this.lastClock)?.histograms() ?? null;
  }

  private readonly tick = (frame: number, deadlineMs: number): void => {
    this.inTick = true;
    try {
      this.mixFrame(frame, deadlineMs);
    } finally {
      this.inTick = false;
    }
  };

  private mixFrame(frame: number, deadlineMs: number): void {
    const half = frame % FRAMES_PER_PACKET;
    const pcm = this.packer.halves[half]!;
    this.mixer.mix(pcm);
    this.framesMixed++;
    // performance.now() deadlines on the epoch: the same time base as nowMicros(), which the server uses.
    if (half === 0) this.captureUs[0] = (TIME_ORIGIN_MS + deadlineMs) * 1000;
    else this.emitPacket();
    // A handler may stop publishing; nothing of this tick remains to run after it.
    this.onMixed?.(pcm, frame);
  }

  private emitPacket(): void {
    const send = this.send;
    const packet = this.packer.stamp(this.captureUs);
    if (send?.(packet)) this.packetsSent++;
    else this.packetsDropped++;
    this.packer.sent();
  }
}
