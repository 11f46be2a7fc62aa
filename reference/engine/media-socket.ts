import type { Socket } from "node:net";
import { WebSocket } from "ws";
import {
  type ClientMessage,
  MAX_FRAME_BYTES,
  MEDIA_PATH,
  parseServerMessage,
  type ServerMessage,
} from "../../protocol/media.ts";
import { ZegoError } from "../errors.ts";
import type { Logger } from "../music/transport.ts";
import { ClientFrameWriter } from "./client-frame-writer.ts";
import { type ReadRoute, readBufferConnection } from "./read-buffer-connection.ts";
import { readPacketsBeforeWs, type ServerFrameReader } from "./server-frame-reader.ts";

// One WebSocket to the media server: control requests matched to their replies by req_id (each with a
// deadline), server pushes (room events, kicks, token warnings) and binary frames handed on, every server
// message checked against the protocol's validator. It never reconnects: the room session above decides that.
// With `framedWrites`, binary frames (published packets) go out pre-framed, straight to the connection's socket
// (client-frame-writer.ts: one write per packet, a zero masking key); control messages go through ws. With
// `readPackets`, relayed packets are taken off the socket before ws's Receiver (server-frame-reader.ts; every
// other frame still goes to ws, whole and in order), and the connection reads into one buffer per thread
// instead of a new Buffer and a 'data' event per read (read-buffer-connection.ts). Both off by default; a load
// run's VUs turn both on (ZegoEngineProfile.mediaSocket, set by scenarios/vu/pipeline.ts).

/** Unsent bytes above which a published packet is dropped rather than queued (≈ 300 ms of 20 ms packets). */
export const SEND_BUFFER_LIMIT_BYTES = 64 * 1024;

export interface MediaSocketHandlers {
  /** A server message that is not the reply to a request (room events, kicked, token_will_expire...). */
  onPush(msg: ServerMessage): void;
  onFrame(data: Buffer): void;
  /** The socket closed (by either side); `code`/`reason` as the close frame said. Called once. */
  onClose(code: number, reason: string): void;
}

/** A client message without req_id (the socket numbers requests itself). */
type ClientRequest = ClientMessage extends infer M ? (M extends unknown ? Omit<M, "req_id"> : never) : never;

interface Pending {
  resolve(msg: ServerMessage): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout;
}

/**
 * The media endpoint of a simulator base URL: http(s) -> ws(s), plus /v1/media. With `socketPath` (a Unix
 * domain socket the simulator also serves, `ktv sim --socket`), the same endpoint over that socket, in ws's
 * `ws+unix:<socket>:<request path>` form.
 */
export function mediaUrl(server: string, socketPath?: string): string {
  if (socketPath !== undefined) {
    if (socketPath.includes(":") || !socketPath.startsWith("/")) {
      throw new RangeError(`media socket path must be absolute and free of ':', got ${socketPath}`);
    }
    return `ws+unix:${socketPath}:${MEDIA_PATH}`;
  }
  const u = new URL(server);
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new RangeError(`server must be an http(s) URL, got ${server}`);
  }
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  u.pathname = `${u.pathname.replace(/\/+$/, "")}${MEDIA_PATH}`;
  u.search = "";
  return u.toString();
}

export class MediaSocket {
  private readonly pending = new Map<number, Pending>();
  private nextReqId = 1;
  private closed = false;
  /** Writes binary frames to the upgraded socket; null when off or the socket is unknown (ws frames them). */
  private readonly frames: ClientFrameWriter | null;
  /** Takes relayed packets off the socket before ws; null when ws reads everything. */
  private readonly reader: ServerFrameReader | null;

  /** Packets written pre-framed to the socket (0 when ws frames them). */
  get packetsFramed(): number {
    return this.frames?.written ?? 0;
  }

  /** Packets taken off the socket before ws (0 when ws reads everything). */
  get packetsRead(): number {
    return this.reader?.packets ?? 0;
  }

  /** Reads the reader walked in the thread's read buffer (read-buffer-connection.ts); 0 when off. */
  get readsInPlace(): number {
    return this.reader?.readsInPlace ?? 0;
  }

  private constructor(
    private readonly ws: WebSocket,
    private readonly handlers: MediaSocketHandlers,
    private readonly log: Logger,
    socket: Socket | null,
    readRoute: ReadRoute | null,
    framedWrites: boolean,
  ) {
    this.frames = socket && framedWrites ? new ClientFrameWriter(socket) : null;
    this.reader =
      socket && readRoute ? readPacketsBeforeWs(socket, (p) => handlers.onFrame(p), MAX_FRAME_BYTES) : null;
    if (readRoute !== null) readRoute.reader = this.reader;
    ws.on("message", (data, isBinary) => {
      if (isBinary) handlers.onFrame(data as Buffer);
      else this.onText(data.toString("utf8"));
    });
    ws.on("close", (code, reason) => this.onClosed(code, reason.toString()));
    // Errors after the open are followed by a close event; the close is what the session acts on.
    ws.on("error", (err) => log.debug({ err: err.message }, "media socket error"));
  }

  /** Opens the socket; rejects with ZegoError 1002030 when the server cannot be reached in `timeoutMs`. */
  static open(
    url: string,
    handlers: MediaSocketHandlers,
    o: {
      timeoutMs: number;
      signal?: AbortSignal;
      logger: Logger;
      /**
       * Read relayed packets off the socket before ws's Receiver (server-frame-reader.ts). Off by default (an
       * SDK-shaped client reads through ws); load runs turn it on (ZegoEngineProfile.mediaSocket). In rooms-250's
       * relay shape (bench/harness/writer-relay-cost.ts, 7 rounds) the load process's CPU per relayed packet
       * fell 25.7 -> 22.3 µs, the simulator's unchanged (18.75 both).
       */
      readPackets?: boolean;
      /**
       * Write published packets pre-framed straight to the socket (client-frame-writer.ts: one write, zero
       * masking key). Off by default (a real SDK picks random keys); load runs turn it on. writer-relay-cost:
       * simulator 18.75 -> 17.64 µs and load process 25.7 -> 23.2 µs per relayed packet (both options: 21.0).
       * The earlier reading that it raised the embedded simulator's CPU in thread-cost was that bench's noise:
       * its per-frame CPU follows the machine's load average (a starved process spends less per frame), and
       * the 1002030 failures seen with it on were overload, which the ws path shows too at the same load.
       */
      framedWrites?: boolean;
    },
  ): Promise<MediaSocket> {
    return new Promise((resolve, reject) => {
      if (o.signal?.aborted) {
        reject(o.signal.reason);
        return;
      }
      const readRoute: ReadRoute | null = o.readPackets === true ? { reader: null } : null;
      const ws = new WebSocket(url, {
        handshakeTimeout: o.timeoutMs,
        maxPayload: MAX_FRAME_BYTES,
        // Compressing PCM costs CPU for little gain, and without it ws sends every frame synchronously.
        perMessageDeflate: false,
        // ws passes its request options through (as to its own net.connect); its type lists net's overloads.
        ...(readRoute !== null
          ? {
              createConnection: readBufferConnection(
                readRoute,
              ) as unknown as typeof import("node:net").connect,
            }
          : {}),
      });
      const fail = (why: string) => {
        cleanup();
        ws.removeAllListeners();
        ws.on("error", () => {});
        ws.terminate();
        reject(new ZegoError(1002030, why));
      };
      const onAbort = () => {
        cleanup();
        ws.removeAllListeners();
        ws.on("error", () => {});
        ws.terminate();
        reject(o.signal?.reason);
      };
      const onError = (err: Error) => fail(err.message);
      const onUnexpected = (_req: unknown, res: { statusCode?: number }) =>
        fail(`HTTP ${res.statusCode ?? "?"} instead of a WebSocket upgrade`);
      // The upgrade response's socket is the one ws then frames messages on (documented 'upgrade' event).
      let socket: Socket | null = null;
      const onUpgrade = (res: { socket: Socket }) => {
        socket = res.socket;
      };
      const onOpen = () => {
        cleanup();
        resolve(new MediaSocket(ws, handlers, o.logger, socket, readRoute, o.framedWrites === true));
      };
      const cleanup = () => {
        ws.off("open", onOpen);
        ws.off("upgrade", onUpgrade);
        ws.off("error", onError);
        ws.off("unexpected-response", onUnexpected);
        o.signal?.removeEventListener("abort", onAbort);
      };
      ws.once("upgrade", onUpgrade);
      ws.once("open", onOpen);
      ws.once("error", onError);
      ws.once("unexpected-response", onUnexpected);
      o.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  /**
   * Sends a control message and resolves with its reply: the `<type>_ok` answer or an `error` message (the
   * caller maps it). Rejects with ZegoError `timeoutCode` when no reply comes in `timeoutMs`, and with 1002052
   * when the socket closes first.
   */
  request(msg: ClientRequest, timeoutMs: number, timeoutCode = 1002052): Promise<ServerMessage> {
    if (!this.isOpen) return Promise.reject(new ZegoError(1002052, "media socket is not open"));
    const reqId = this.nextReqId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(reqId);
        reject(new ZegoError(timeoutCode, `no answer to ${msg.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(reqId, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ ...msg, req_id: reqId }));
    });
  }

  /** Sends one binary frame; false (nothing sent) when closed or when the send buffer is backed up. */
  sendFrame(frame: Uint8Array): boolean {
    if (!this.isOpen || this.ws.bufferedAmount > SEND_BUFFER_LIMIT_BYTES) return false;
    if (this.frames !== null) this.frames.write(frame);
    else this.ws.send(frame, { binary: true });
    return true;
  }

  /** Closes the socket (normal closure); pending requests reject with 1002052. Idempotent. */
  close(code = 1000, reason = ""): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close(code, reason);
    }
    // The close handshake may never complete on a dead link: terminate if it has not within a second.
    setTimeout(() => {
      if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
    }, 1000).unref();
  }

  /** Drops the connection at once, as a network failure would (tests, and a socket that stopped answering). */
  terminate(): void {
    this.ws.terminate();
  }

  private onText(text: string): void {
    const parsed = parseServerMessage(text);
    if (!parsed.ok) {
      // A newer server's message type, or garbage: never fatal, but worth a look.
      this.log.warn({ why: parsed.message }, "media server message ignored");
      return;
    }
    const msg = parsed.msg;
    const reqId = "req_id" in msg ? msg.req_id : undefined;
    const waiter = typeof reqId === "number" ? this.pending.get(reqId) : undefined;
    if (waiter && typeof reqId === "number") {
      this.pending.delete(reqId);
      clearTimeout(waiter.timer);
      waiter.resolve(msg);
      return;
    }
    this.handlers.onPush(msg);
  }

  private onClosed(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new ZegoError(1002052, `media socket closed (${code}${reason ? ` ${reason}` : ""})`));
      this.pending.delete(id);
    }
    this.handlers.onClose(code, reason);
  }
}
