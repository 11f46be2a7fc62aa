import type { ClockHistograms, ClockReport, Scheduler } from "../mixer/clock.ts";
import { Mixer } from "../mixer/mixer.ts";
import type { PcmSource } from "../mixer/source.ts";
import { type FrameTask, FrameTicker, type TickerAttachment, threadTicker } from "../mixer/ticker.ts";
import type { MixedAudioHandler } from "./events.ts";
import { FRAMES_PER_PACKET, FramePacker } from "./frame-packer.ts";

// The engine's audio path while publishing: the publish mixer (media players via enableAux, the microphone),
// driven by the thread's FrameTicker (one drift-corrected 10 ms clock for every device of the thread). Each
// frame mixes 10 ms into the next half of the packet buffer; every second frame the packet is stamped (capture
// time = the first frame's deadline) and handed to `send`. Frames are a function of the frame index only,
// never of when a tick ran, so a late tick changes timing, not samples.
//
// Per-frame work allocates nothing here: mixer, packer, ticker and handlers reuse their buffers. (The
// ticker's one timer object per tick for the whole thread and the ws library's masked copy per send are
// allocations outside this code.)

/** performance.timeOrigin is a getter that returns a fresh number each call: read it once. */
const TIME_ORIGIN_MS = performance.timeOrigin;
/** A module-local copy: under tsx an imported constant is read through a getter call. */
const PER_PACKET = FRAMES_PER_PACKET;

export interface CaptureStats {
  /** 10 ms frames mixed since publishing started. */
  framesMixed: number;
  /** Frames that started a whole frame period or more after their deadline. */
  lateFrames: number;
  packetsSent: number;
  /** Packets that could not go out (socket down or backed up): real-time audio is dropped, never queued. */
  packetsDropped: number;
  /**
   * Lateness and mix-cost percentiles of this device's frames: only with `histograms: true` (a single
   * client's report); null otherwise and before the first start. Load runs read the thread ticker's drain.
   */
  clock: ClockReport | null;
  /** Set when a frame threw and publishing stopped. */
  error: string | null;
}

export interface CaptureOptions {
  limiter?: boolean;
  /** Keep this device's own lateness/cost histograms (stats().clock, histograms()); default false. */
  histograms?: boolean;
  /** The ticker to run on; default the thread's, or a private one on `now`/`scheduler` when given. */
  ticker?: FrameTicker;
  /** A private ticker's time base and timers (tests run it on simulated time). */
  now?: () => number;
  scheduler?: Scheduler;
}

export class CaptureDevice implements FrameTask {
  readonly mixer: Mixer;
  /** Where packets go; false from `send` counts the packet as dropped. */
  send: ((packet: Uint8Array) => boolean) | null = null;
  /** Called after each mixed 10 ms frame (after its packet, if it completed one, was sent). */
  onMixed: MixedAudioHandler | null = null;
  private readonly packer = new FramePacker();
  private readonly ticker: FrameTicker;
  private micInput: number | null = null;
  private micVolume = 100;
  private micMuted = false;
  private attachment: TickerAttachment | null = null;
  private lastAttachment: TickerAttachment | null = null;
  /** Why publishing stopped on its own (a frame threw), or null. */
  private failure: string | null = null;
  /** Capture time of the packet being filled, µs. A typed-array slot: storing a float there never boxes it. */
  private readonly captureUs = new Float64Array(1);
  private framesMixed = 0;
  private packetsSent = 0;
  private packetsDropped = 0;
  private lastReport: ClockReport | null = null;
  private inTick = false;

  constructor(private readonly opts: CaptureOptions = {}) {
    this.mixer = new Mixer({ limiter: opts.limiter ?? true });
    this.ticker =
      opts.ticker ??
      (opts.now || opts.scheduler
        ? new FrameTicker({
            ...(opts.now ? { now: opts.now } : {}),
            ...(opts.scheduler ? { scheduler: opts.scheduler } : {}),
          })
        : threadTicker());
  }

  get running(): boolean {
    return this.attachment !== null;
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

  /** Starts publishing stream `streamID` (packets numbered from 0) at the ticker's next deadline; no-op when running. */
  start(streamID: string): void {
    if (this.attachment) return;
    this.packer.setStream(streamID);
    this.framesMixed = 0;
    this.packetsSent = 0;
    this.packetsDropped = 0;
    this.failure = null;
    this.attachment = this.ticker.attach(this, { histograms: this.opts.histograms ?? false });
  }

  /** Next packet starts a new sequence with the DISCONTINUITY flag (after a re-publish). */
  restartSequence(): void {
    this.packer.restart();
  }

  /** Stops at once (no frame runs after this returns) and returns the report (null without histograms). Idempotent. */
  stop(): ClockReport | null {
    const a = this.attachment;
    if (!a) return this.lastReport;
    this.attachment = null;
    this.ticker.detach(a);
    this.lastAttachment = a;
    this.lastReport = a.report();
    // Stopped from inside a frame (a handler): the ticker counts that frame once it returns, so the final
    // report is taken after it.
    if (this.inTick) {
      queueMicrotask(() => {
        this.lastReport = a.report();
      });
    }
    return this.lastReport;
  }

  stats(): CaptureStats {
    const a = this.attachment ?? this.lastAttachment;
    return {
      framesMixed: this.framesMixed,
      lateFrames: a?.lateFrames ?? 0,
      packetsSent: this.packetsSent,
      packetsDropped: this.packetsDropped,
      clock: this.attachment ? this.attachment.report() : this.lastReport,
      error: this.failure,
    };
  }

  /** The running or last run's lateness and cost histograms, encoded (null before the first start or without histograms). */
  histograms(): ClockHistograms | null {
    return (this.attachment ?? this.lastAttachment)?.histograms() ?? null;
  }

  /** FrameTask: the ticker runs this device's frame `frame`, due at `deadlineMs`. */
  runFrame(frame: number, deadlineMs: number): void {
    this.inTick = true;
    try {
      this.mixFrame(frame, deadlineMs);
    } finally {
      this.inTick = false;
    }
  }

  /** FrameTask: a frame threw (a handler, a source); the ticker has dropped this device; publishing reports why. */
  frameFailed(error: unknown): void {
    this.failure = error instanceof Error ? error.message : String(error);
    this.stop();
  }

  private mixFrame(frame: number, deadlineMs: number): void {
    const half = frame % PER_PACKET;
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
