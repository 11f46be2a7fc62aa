import { WebSocket } from "ws";
import type { ServerMessage } from "../../protocol/media.ts";
import type { MediaStream } from "./streams.ts";

// One media socket and what it is doing: its room login, the streams it publishes and plays, keepalive and
// throttling state. The hub changes it; this file only holds it and sends on it.

export interface PeerLogin {
  appId: number;
  roomId: string;
  userId: string;
  userName: string;
  via: "sign" | "token";
  /** Token expiry on the simulator clock (ms), null for app-sign logins. */
  tokenExpireAt: number | null;
  /** The token's privilege payload ("" when none). */
  tokenPayload: string;
  /** token_will_expire already sent for the current token. */
  warned: boolean;
}

export class Peer {
  login: PeerLogin | null = null;
  /** Published streams by stream hash: the binary path's ownership check is one map lookup. */
  readonly publishing = new Map<number, MediaStream>();
  readonly playing = new Set<MediaStream>();
  /** Closed or kicked: late events from the socket are ignored. */
  gone = false;
  awaitingPong = false;
  /** Real time (ms) of this socket's next keepalive ping; NaN until the sweep first sees it (sweep.ts). */
  pingDueAt = Number.NaN;
  /** Real time (ms) since when the socket has had no room login. */
  idleSince: number;
  lastFrameErrorAt = Number.NEGATIVE_INFINITY;
  frameErrorsSuppressed = 0;

  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    readonly remote: string,
    nowReal: number,
    private readonly hardLimitBytes: number,
  ) {
    this.idleSince = nowReal;
  }

  get isOpen(): boolean {
    return !this.gone && this.ws.readyState === WebSocket.OPEN;
  }

  /** Starts the close handshake; cuts the socket if the client has not completed it within `graceMs`. */
  closeWithin(code: number, reason: string, graceMs: number): void {
    const ws = this.ws;
    ws.close(code, reason);
    if (ws.readyState === WebSocket.CLOSED) return;
    const cut = setTimeout(() => ws.terminate(), graceMs);
    cut.unref();
    ws.once("close", () => clearTimeout(cut));
  }

  /**
   * Sends one control message. A socket that has let `hardLimitBytes` pile up is not reading at all: it is cut
   * rather than buffered without bound. False when nothing was sent.
   */
  send(msg: ServerMessage): boolean {
    return this.sendText(JSON.stringify(msg));
  }

  /** send() of a message already serialised (one JSON.stringify for a message that goes to many sockets). */
  sendText(text: string): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    if (this.ws.bufferedAmount > this.hardLimitBytes) {
      this.ws.terminate();
      return false;
    }
    this.ws.send(text);
    return true;
  }
}
