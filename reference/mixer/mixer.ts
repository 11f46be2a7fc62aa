import { allocFrame, assertFrame, FRAME_FRAMES, FRAME_SAMPLES } from "./frame.ts";
import { accumulate, MAX_GAIN, mix1, mix2, mix3, mix4, saturate, volumeToGain } from "./kernel.ts";
import { Limiter, type LimiterOptions } from "./limiter.ts";
import type { PcmSource } from "./source.ts";

// Mixes N sources into one 48 kHz stereo s16 frame every call. Each input owns a frame buffer allocated when
// it is added; `mix` reads every input (muted ones too, so a muted player keeps its place in time), then runs
// one kernel over the inputs that can contribute (unmuted, non-zero gain, returned audio). Adding, removing
// and changing inputs allocate; `mix` itself allocates nothing.

export interface InputOptions {
  /** The SDK's volume scale: integer 0..200, 100 = unity (default). */
  volume?: number;
  muted?: boolean;
}

interface Input {
  readonly id: number;
  readonly source: PcmSource;
  readonly buf: Int16Array;
  gain: number;
  muted: boolean;
  lastFrames: number;
}

export interface MixerOptions {
  /** true for the default limiter, or its settings; off by default (plain int16 saturation). */
  limiter?: boolean | LimiterOptions;
}

export class Mixer {
  readonly limiter: Limiter | null;
  private inputs: Input[] = [];
  private nextId = 1;
  // Scratch for the current frame's contributing inputs, reused every call.
  private readonly live: Int16Array[] = [];
  private readonly liveGain: number[] = [];
  private readonly acc = new Float64Array(FRAME_SAMPLES);

  constructor(opts: MixerOptions = {}) {
    const l = opts.limiter;
    this.limiter = l ? new Limiter(l === true ? {} : l) : null;
  }

  /** Adds a source; returns its input id. */
  add(source: PcmSource, opts: InputOptions = {}): number {
    const input: Input = {
      id: this.nextId++,
      source,
      buf: allocFrame(),
      gain: volumeToGain(opts.volume ?? 100),
      muted: opts.muted ?? false,
      lastFrames: 0,
    };
    this.inputs = [...this.inputs, input];
    this.live.push(input.buf);
    this.liveGain.push(0);
    return input.id;
  }

  /** Removes an input; false when there was no such input. */
  remove(id: number): boolean {
    const before = this.inputs.length;
    this.inputs = this.inputs.filter((i) => i.id !== id);
    // Drop the scratch slot too, so add/remove cycles neither grow it nor pin removed buffers.
    this.live.length = this.inputs.length;
    this.liveGain.length = this.inputs.length;
    return this.inputs.length !== before;
  }

  has(id: number): boolean {
    return this.inputs.some((i) => i.id === id);
  }

  get size(): number {
    return this.inputs.length;
  }

  /** Sets an input's gain from the SDK volume 0..200 (RangeError outside it; callers map that to 1017007). */
  setVolume(id: number, volume: number): void {
    this.get(id).gain = volumeToGain(volume);
  }

  /** Sets an input's gain directly in Q15 (0..65536, 32768 = unity), for finer steps than the SDK volume. */
  setGain(id: number, gain: number): void {
    if (!Number.isInteger(gain) || gain < 0 || gain > MAX_GAIN) {
      throw new RangeError(`gain must be an integer in 0..${MAX_GAIN}, got ${gain}`);
    }
    this.get(id).gain = gain;
  }

  gain(id: number): number {
    return this.get(id).gain;
  }

  setMuted(id: number, muted: boolean): void {
    this.get(id).muted = muted;
  }

  /** Sample frames of real audio the input returned in the last `mix` (0 once a source has ended). */
  lastFrames(id: number): number {
    return this.get(id).lastFrames;
  }

  /** Mixes the next 10 ms into `out`; returns how many inputs contributed. */
  mix(out: Int16Array): number {
    assertFrame(out, "mix output");
    const inputs = this.inputs;
    const live = this.live;
    const liveGain = this.liveGain;
    let n = 0;
    for (let k = 0; k < inputs.length; k++) {
      const input = inputs[k]!;
      const frames = input.source.read(input.buf);
      input.lastFrames = frames;
      // A source that returned no audio has zeroed its buffer, so skipping it changes nothing but the cost.
      if (input.muted || input.gain === 0 || frames === 0) continue;
      live[n] = input.buf;
      liveGain[n] = input.gain;
      n++;
    }
    if (this.limiter) {
      this.accumulateLive(n);
      this.limiter.process(out, FRAME_FRAMES, this.acc);
      return n;
    }
    const S = FRAME_SAMPLES;
    switch (n) {
      case 0:
        out.fill(0);
        break;
      case 1:
        mix1(out, S, live[0]!, liveGain[0]!);
        break;
      case 2:
        mix2(out, S, live[0]!, liveGain[0]!, live[1]!, liveGain[1]!);
        break;
      case 3:
        mix3(out, S, live[0]!, liveGain[0]!, live[1]!, liveGain[1]!, live[2]!, liveGain[2]!);
        break;
      case 4:
        mix4(
          out,
          S,
          live[0]!,
          liveGain[0]!,
          live[1]!,
          liveGain[1]!,
          live[2]!,
          liveGain[2]!,
          live[3]!,
          liveGain[3]!,
        );
        break;
      default:
        this.accumulateLive(n);
        saturate(out, S, this.acc);
    }
    return n;
  }

  private accumulateLive(n: number): void {
    if (n === 0) {
      this.acc.fill(0);
      return;
    }
    for (let k = 0; k < n; k++)
      accumulate(this.acc, FRAME_SAMPLES, this.live[k]!, this.liveGain[k]!, k === 0);
  }

  private get(id: number): Input {
    const input = this.inputs.find((i) => i.id === id);
    if (!input) throw new RangeError(`mixer: no input ${id}`);
    return input;
  }
}
