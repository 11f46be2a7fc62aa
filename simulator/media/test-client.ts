import { WebSocket } from "ws";
import {
  Codec,
  encodeFrame,
  FRAME_HEADER_BYTES,
  MAX_FRAME_BYTES,
  MEDIA_PATH,
  nowMicros,
  parseServerMessage,
  type ServerMessage,
  type ServerMessageOf,
  type ServerMessageType,
  streamHash,
} from "../../protocol/media.ts";
import { DEV_APP } from "../options.ts";

// A small WebSocket client for the media tests: queues what the server sends, waits for a message of a type
// or a binary frame with a deadline (never forever), and checks every server message against the protocol's
// own validator, so a test also proves the server speaks the documented messages.

const WAIT_MS = 3_000;

export class MediaTestClient {
  readonly messages: ServerMessage[] = [];
  readonly frames: Buffer[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Server messages that failed parseServerMessage (a test asserts this stays empty). */
  readonly invalid: string[] = [];
  private wake: (() => void) | null = null;
  private reqSeq = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data, isBinary) => {
      if (isBinary) {
        this.frames.push(data as Buffer);
      } else {
        const text = data.toString();
        const p = parseServerMessage(text);
        if (p.ok) this.messages.push(p.msg);
        else this.invalid.push(`${p.message}: ${text}`);
      }
      this.wake?.();
    });
    this.closed = new Promise((resolve) =>
      ws.on("close", (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.wake?.();
      }),
    );
  }

  /** `socketPath`: over the simulator's Unix domain socket (`socketPath` option) instead of TCP. */
  static async open(
    baseUrl: string,
    opts: { autoPong?: boolean; socketPath?: string } = {},
  ): Promise<MediaTestClient> {
    const url = opts.socketPath
      ? `ws+unix:${opts.socketPath}:${MEDIA_PATH}`
      : baseUrl.replace(/^http/, "ws") + MEDIA_PATH;
    const ws = new WebSocket(url, {
      autoPong: opts.autoPong ?? true,
    });
    const c = new MediaTestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return c;
  }

  /** Resolves when `pick` finds something, or rejects after `ms`. */
  private async until<T>(pick: () => T | undefined, what: string, ms: number): Promise<T> {
    const deadline = performance.now() + ms;
    for (;;) {
      const found = pick();
      if (found !== undefined) return found;
      const left = deadline - performance.now();
      if (left <= 0 || this.ws.readyState === WebSocket.CLOSED) {
        throw new Error(
          `no ${what} within ${ms} ms; got ${JSON.stringify(this.messages.map((m) => m.type))}`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** The next queued message of `type` (removed from the queue). */
  next<T extends ServerMessageType>(type: T, ms = WAIT_MS): Promise<ServerMessageOf<T>> {
    return this.until(
      () => {
        const i = this.messages.findIndex((m) => m.type === type);
        return i < 0 ? undefined : (this.messages.splice(i, 1)[0] as ServerMessageOf<T>);
      },
      `"${type}" message`,
      ms,
    );
  }

  nextFrame(ms = WAIT_MS): Promise<Buffer> {
    return this.until(() => this.frames.shift(), "binary frame", ms);
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === "string" ? msg : JSON.stringify(msg));
  }

  /** Sends `msg` with a fresh req_id and resolves with the reply that echoes it (an `error` included). */
  async request(msg: Record<string, unknown>, ms = WAIT_MS): Promise<ServerMessage> {
    const req_id = `r${++this.reqSeq}`;
    this.send({ ...msg, req_id });
    return this.until(
      () => {
        const i = this.messages.findIndex((m) => "req_id" in m && m.req_id === req_id);
        return i < 0 ? undefined : this.messages.splice(i, 1)[0];
      },
      `reply to ${String(msg.type)}`,
      ms,
    );
  }

  sendFrame(frame: Uint8Array): void {
    this.ws.send(frame, { binary: true });
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    return this.closed;
  }
}

/** Logs in on the dev app with the app sign; throws with the server's answer when refused. */
export async function loginClient(
  baseUrl: string,
  roomId: string,
  userId: string,
  extra: Record<string, unknown> = {},
  via: { socketPath?: string } = {},
): Promise<MediaTestClient> {
  const c = await MediaTestClient.open(baseUrl, via);
  const r = await c.request({
    type: "login",
    room_id: roomId,
    user_id: userId,
    app_id: DEV_APP.app_id,
    app_sign: DEV_APP.app_sign,
    ...extra,
  });
  if (r.type !== "login_ok") throw new Error(`login refused: ${JSON.stringify(r)}`);
  return c;
}

/** A 10 ms 48 kHz stereo PCM frame whose samples are a pure function of (seed, seq): byte-exact checks. */
export function pcmFrame(
  streamId: string,
  seq: number,
  opts: { captureUs?: number; flags?: number } = {},
): Buffer {
  const samples = 480 * 2;
  const payload = new Int16Array(samples);
  for (let i = 0; i < samples; i++) payload[i] = ((seq * 7919 + i * 31) % 65536) - 32768;
  const out = Buffer.alloc(MAX_FRAME_BYTES);
  const n = encodeFrame(
    out,
    {
      flags: opts.flags ?? 0,
      codec: Codec.PcmS16le,
      streamHash: streamHash(streamId),
      seq,
      captureUs: opts.captureUs ?? nowMicros(),
      sampleRate: 48_000,
      channels: 2,
    },
    new Uint8Array(payload.buffer),
  );
  return out.subarray(0, n);
}

export const PCM_FRAME_BYTES = FRAME_HEADER_BYTES + 480 * 2 * 2;
