import { performance } from "node:perf_hooks";
import WS from "ws";
import { strictObject, UnsupportedApiError } from "./errors.ts";
import { sampleTags, type VuState } from "./vu-state.ts";

// k6/websockets for one VU: the browser-like WebSocket (on<event> properties and addEventListener, send,
// close, ping; binaryType "arraybuffer") over the `ws` package, with k6's samples: ws_connecting, ws_sessions,
// ws_session_duration, ws_msgs_sent, ws_msgs_received, ws_ping, data_sent, data_received. Blobs are not
// offered (binaryType "blob" fails loudly on the first binary message). Errors thrown by the script's handlers
// go to the runner (TestControl.callbackError) instead of crashing the process.

type Listener = (event: unknown) => void;
const EVENTS = ["open", "close", "error", "message", "ping", "pong"] as const;

export function createWebSocketsModule(vu: VuState, sockets: Set<WS>): Record<string, unknown> {
  class WebSocket {
    static readonly CONNECTING = 0;
    static readonly OPEN = 1;
    static readonly CLOSING = 2;
    static readonly CLOSED = 3;
    readonly CONNECTING = 0;
    readonly OPEN = 1;
    readonly CLOSING = 2;
    readonly CLOSED = 3;
    readonly url: string;
    binaryType: "blob" | "arraybuffer" = "blob";
    onopen: Listener | null = null;
    onclose: Listener | null = null;
    onerror: Listener | null = null;
    onmessage: Listener | null = null;
    onping: Listener | null = null;
    onpong: Listener | null = null;
    private readonly ws: WS;
    private readonly listeners = new Map<string, Listener[]>();

    constructor(
      url: string,
      protocols?: null,
      params?: { headers?: Record<string, string>; tags?: Record<string, unknown> } | null,
    ) {
      if (vu.init) throw new Error("new WebSocket() cannot be called in the init context");
      if (protocols !== undefined && protocols !== null)
        throw new UnsupportedApiError("new WebSocket(url, protocols)");
      for (const k of Object.keys(params ?? {}))
        if (k !== "headers" && k !== "tags") throw new UnsupportedApiError(`WebSocket params.${k}`);
      this.url = url;
      const tags = sampleTags(vu, {
        url,
        ...Object.fromEntries(Object.entries(params?.tags ?? {}).map(([k, v]) => [k, String(v)])),
      });
      const t0 = performance.now();
      let opened = -1;
      const ws = new WS(url, { headers: params?.headers ?? {} });
      this.ws = ws;
      sockets.add(ws);
      const r = vu.registry;
      ws.on("upgrade", (res) => {
        r.add("ws_connecting", performance.now() - t0, { ...tags, status: String(res.statusCode) });
      });
      ws.on("open", () => {
        opened = performance.now();
        r.add("ws_sessions", 1, tags);
        this.dispatch("open", { type: "open", timestamp: Date.now() });
      });
      ws.on("message", (data: Buffer, isBinary: boolean) => {
        r.add("ws_msgs_received", 1, tags);
        r.add("data_received", data.length, tags);
        let payload: string | ArrayBuffer;
        if (isBinary) {
          if (this.binaryType !== "arraybuffer") {
            vu.test.callbackError(
              new UnsupportedApiError('WebSocket binaryType "blob"', 'set ws.binaryType = "arraybuffer"'),
            );
            return;
          }
          payload = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
        } else payload = data.toString("utf8");
        this.dispatch("message", { type: "message", data: payload, timestamp: Date.now() });
      });
      ws.on("ping", () => this.dispatch("ping", { type: "ping", timestamp: Date.now() }));
      ws.on("pong", () => this.dispatch("pong", { type: "pong", timestamp: Date.now() }));
      ws.on("error", (e) =>
        this.dispatch("error", { type: "error", error: e.message, timestamp: Date.now() }),
      );
      ws.on("close", (code, reason) => {
        sockets.delete(ws);
        if (opened >= 0) r.add("ws_session_duration", performance.now() - opened, tags);
        this.dispatch("close", { type: "close", code, reason: reason.toString(), timestamp: Date.now() });
      });
      this.tags = tags;
    }

    private readonly tags: Record<string, string>;

    get readyState(): number {
      return this.ws.readyState;
    }

    get bufferedAmount(): number {
      return this.ws.bufferedAmount;
    }

    send(data: string | ArrayBuffer | ArrayBufferView): void {
      if (this.ws.readyState !== WS.OPEN) throw new Error("WebSocket.send(): the socket is not open");
      const bytes =
        typeof data === "string"
          ? Buffer.byteLength(data)
          : data instanceof ArrayBuffer
            ? data.byteLength
            : ArrayBuffer.isView(data)
              ? data.byteLength
              : -1;
      if (bytes < 0) throw new UnsupportedApiError("WebSocket.send(Blob)");
      this.ws.send(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
      vu.registry.add("ws_msgs_sent", 1, this.tags);
      vu.registry.add("data_sent", bytes, this.tags);
    }

    close(code?: number, reason?: string): void {
      this.ws.close(code ?? 1000, reason);
    }

    ping(): void {
      const t0 = performance.now();
      this.ws.once("pong", () => vu.registry.add("ws_ping", performance.now() - t0, this.tags));
      this.ws.ping();
    }

    addEventListener(event: string, listener: Listener): void {
      if (!(EVENTS as readonly string[]).includes(event))
        throw new Error(`WebSocket.addEventListener: unknown event "${event}"`);
      const list = this.listeners.get(event) ?? [];
      list.push(listener);
      this.listeners.set(event, list);
    }

    private dispatch(event: (typeof EVENTS)[number], e: unknown): void {
      const own = this[`on${event}`];
      try {
        if (typeof own === "function") own.call(this, e);
        for (const l of this.listeners.get(event) ?? []) l.call(this, e);
      } catch (err) {
        vu.test.callbackError(err, `WebSocket ${event} handler`);
      }
    }
  }
  return strictObject("k6/websockets", { WebSocket });
}
