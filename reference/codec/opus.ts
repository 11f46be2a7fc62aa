import { createRequire } from "node:module";

// libopus 1.4 (opusscript 0.1.1: MIT, emscripten/WebAssembly, no native build) behind an interface that
// allocates nothing per packet: PCM in and Opus out go through caller-owned buffers.
//
// Why not opusscript's own OpusScript class: its encode/decode return a fresh Buffer per call, and its heap
// views are mis-addressed (it takes `HEAPU16.subarray(ptr, …)` with a *byte* pointer as the element index,
// so the PCM it writes lands at address 2·ptr, outside the block it malloc'd, in heap it does not own; we did
// not see it corrupt anything with 7 encoders in one thread, but nothing guarantees that). This wrapper drives
// the same native OpusScriptHandler (one encoder + one decoder) through blocks it allocates itself.
//
// The handler's byte convention (opusscript's src/opusscript_encoder.cpp): `_encode(in, bytes, out, frame)`
// reads its input as one *byte per 16-bit slot* (little-endian s16 bytes spread over `bytes` uint16 slots)
// and repacks them in place, reading up to slot 2·bytes: the input block must hold 4·bytes bytes.
// `_decode(in, bytes, out)` writes each decoded sample as two uint16 slots (low byte, high byte): the output
// block holds 4 bytes per sample. One WebAssembly instance per thread serves every codec of that thread;
// its memory may grow when a codec is created, which replaces the heap views, so they are read from the
// module at each call rather than cached.

/** libopus CTL requests (opus_defines.h). */
const OPUS_SET_BITRATE = 4002;
const OPUS_SET_COMPLEXITY = 4010;
const OPUS_SET_SIGNAL = 4024;
const OPUS_SIGNAL_MUSIC = 3002;
/** OPUS_APPLICATION_AUDIO: music and mixed content at full bandwidth (VOIP would favour speech). */
const OPUS_APPLICATION_AUDIO = 2049;
/** The largest packet libopus writes for one frame (3 × 1275 bytes, opusscript's MAX_PACKET_SIZE). */
export const OPUS_MAX_PACKET_BYTES = 3828;
/** The longest frame a packet may decode to: 120 ms at 48 kHz (opusscript's decode limit). */
const MAX_DECODED_FRAMES = 5760;
export const OPUS_SAMPLE_RATES: readonly number[] = [8000, 12000, 16000, 24000, 48000];

interface NativeHandler {
  _encode(input: number, bytes: number, output: number, frameSize: number): number;
  _decode(input: number, bytes: number, output: number): number;
  _encoder_ctl(ctl: number, arg: number): number;
  _decoder_ctl(ctl: number, arg: number): number;
}

interface NativeModule {
  HEAPU8: Uint8Array;
  HEAPU16: Uint16Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  OpusScriptHandler: {
    new (sampleRate: number, channels: number, application: number): NativeHandler;
    destroy_handler(h: NativeHandler): void;
  };
}

let native: NativeModule | null = null;

/** The thread's WebAssembly instance of libopus, instantiated (synchronously) on first use. */
function nativeModule(): NativeModule {
  if (native === null) {
    const require = createRequire(import.meta.url);
    const factory = require("opusscript/build/opusscript_native_wasm.js") as () => NativeModule;
    native = factory();
  }
  return native;
}

export class OpusError extends Error {
  constructor(
    readonly code: number,
    what: string,
  ) {
    super(`opus ${what} failed: ${OPUS_ERRORS[code] ?? "error"} (${code})`);
    this.name = "OpusError";
  }
}

const OPUS_ERRORS: Record<number, string> = {
  [-1]: "bad argument",
  [-2]: "buffer too small",
  [-3]: "internal error",
  [-4]: "invalid packet",
  [-5]: "unimplemented",
  [-6]: "invalid state",
  [-7]: "memory allocation failed",
};

export interface OpusCodecOptions {
  sampleRate: number;
  channels: number;
  /** Encoder bitrate, bit/s (VBR around it, libopus's default mode). */
  bitrate?: number;
  /** 0..10, libopus default 10. */
  complexity?: number;
  /** Longest frame `encode` accepts, in sample frames per channel (default 20 ms). */
  maxFrameSize?: number;
}

/**
 * One Opus encoder and decoder pair (encoder state per publishing stream, decoder state per played stream).
 * Call `destroy` when done: WebAssembly memory is not garbage-collected.
 */
export class OpusCodec {
  readonly sampleRate: number;
  readonly channels: number;
  readonly maxFrameSize: number;
  private readonly mod: NativeModule;
  private handler: NativeHandler | null;
  /**
   * Encoder input block (4 bytes per PCM byte, see the header) and output block; decoder input and output
   * blocks. Each pair is allocated on first use (0 until then): a publisher never decodes, a listener never
   * encodes, and the decoder's output block alone is 46 KB.
   */
  private pcmIn = 0;
  private opusOut = 0;
  private opusIn = 0;
  private pcmOut = 0;

  constructor(o: OpusCodecOptions) {
    if (!OPUS_SAMPLE_RATES.includes(o.sampleRate)) {
      throw new RangeError(`opus: sample rate ${o.sampleRate} is not one of ${OPUS_SAMPLE_RATES.join(", ")}`);
    }
    if (o.channels !== 1 && o.channels !== 2) throw new RangeError(`opus: channels must be 1 or 2`);
    this.sampleRate = o.sampleRate;
    this.channels = o.channels;
    this.maxFrameSize = o.maxFrameSize ?? o.sampleRate / 50;
    this.mod = nativeModule();
    this.handler = new this.mod.OpusScriptHandler(o.sampleRate, o.channels, OPUS_APPLICATION_AUDIO);
    this.encoderCtl(OPUS_SET_SIGNAL, OPUS_SIGNAL_MUSIC);
    if (o.bitrate !== undefined) this.encoderCtl(OPUS_SET_BITRATE, o.bitrate);
    if (o.complexity !== undefined) this.encoderCtl(OPUS_SET_COMPLEXITY, o.complexity);
  }

  /**
   * Encodes one frame of little-endian s16 interleaved PCM given as bytes (`pcmBytes.length` = frames ×
   * channels × 2, a frame size Opus allows: 2.5, 5, 10, 20 ms...) into `out` at `outOffset`; returns the
   * packet's length. Throws OpusError, or RangeError when `out` cannot hold the largest packet.
   */
  encode(pcmBytes: Uint8Array, out: Uint8Array, outOffset = 0): number {
    const h = this.live();
    const bytes = pcmBytes.length;
    const frameSize = bytes / (2 * this.channels);
    if (!Number.isInteger(frameSize) || frameSize <= 0 || frameSize > this.maxFrameSize) {
      throw new RangeError(`opus: ${bytes} bytes is not a frame of 1..${this.maxFrameSize} sample frames`);
    }
    if (this.pcmIn === 0) {
      this.pcmIn = this.malloc(this.maxFrameSize * this.channels * 2 * 4);
      this.opusOut = this.malloc(OPUS_MAX_PACKET_BYTES);
    }
    const slots = this.mod.HEAPU16;
    const base = this.pcmIn >>> 1;
    for (let i = 0; i < bytes; i++) slots[base + i] = pcmBytes[i]!;
    const n = h._encode(this.pcmIn, bytes, this.opusOut, frameSize);
    if (n < 0) throw new OpusError(n, "encode");
    if (out.length - outOffset < n)
      throw new RangeError(`opus: ${out.length - outOffset} bytes left for ${n}`);
    const heap = this.mod.HEAPU8;
    for (let i = 0, o = this.opusOut; i < n; i++, o++) out[outOffset + i] = heap[o]!;
    return n;
  }

  /**
   * Decodes the Opus packet in `data[offset …]` (to its end) into `out` (interleaved s16); returns the sample
   * frames per channel. Throws OpusError for a packet libopus refuses, RangeError when `out` is too small
   * for what it decoded.
   */
  decode(data: Uint8Array, out: Int16Array, offset = 0): number {
    const h = this.live();
    const length = data.length - offset;
    if (length <= 0 || length > OPUS_MAX_PACKET_BYTES) throw new OpusError(-4, "decode");
    if (this.opusIn === 0) {
      this.opusIn = this.malloc(OPUS_MAX_PACKET_BYTES);
      this.pcmOut = this.malloc(MAX_DECODED_FRAMES * this.channels * 4);
    }
    const heap = this.mod.HEAPU8;
    for (let i = 0, o = this.opusIn; i < length; i++, o++) heap[o] = data[offset + i]!;
    const frames = h._decode(this.opusIn, length, this.pcmOut);
    if (frames < 0) throw new OpusError(frames, "decode");
    const samples = frames * this.channels;
    if (out.length < samples)
      throw new RangeError(`opus: ${samples} samples decoded, room for ${out.length}`);
    const slots = this.mod.HEAPU16;
    for (let i = 0, s = this.pcmOut >>> 1; i < samples; i++, s += 2) {
      out[i] = (((slots[s]! & 0xff) | (slots[s + 1]! << 8)) << 16) >> 16;
    }
    return frames;
  }

  destroy(): void {
    const h = this.handler;
    if (h === null) return;
    this.handler = null;
    this.mod.OpusScriptHandler.destroy_handler(h);
    // free(0) is a no-op, as in C.
    this.mod._free(this.pcmIn);
    this.mod._free(this.opusOut);
    this.mod._free(this.opusIn);
    this.mod._free(this.pcmOut);
    this.pcmIn = this.opusOut = this.opusIn = this.pcmOut = 0;
  }

  private malloc(bytes: number): number {
    const p = this.mod._malloc(bytes);
    if (p === 0) throw new OpusError(-7, "malloc");
    return p;
  }

  private encoderCtl(ctl: number, arg: number): void {
    const r = this.live()._encoder_ctl(ctl, arg);
    if (r < 0) throw new OpusError(r, `encoder ctl ${ctl}=${arg}`);
  }

  private live(): NativeHandler {
    if (this.handler === null) throw new Error("opus: codec used after destroy()");
    return this.handler;
  }
}
