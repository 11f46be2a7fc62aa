import { MediaClose, type ServerMessage, type ServerMessageOf, UpdateType } from "../../protocol/media.ts";
import { codeOf, ZegoError } from "../errors.ts";
import { backoffDelay, type RetryPolicy } from "../music/retry.ts";
import { type Logger, TOKEN_EXPIRED } from "../music/transport.ts";
import type { ExpressEngineEvents } from "./events.ts";
import { MediaSocket } from "./media-socket.ts";
import {
  type MediaSocketTuning,
  ZegoRoomStateChangedReason as Reason,
  stateOfReason,
  ZegoPlayerState,
  ZegoPublisherState,
  type ZegoRoomConfig,
  type ZegoRoomLoginResult,
  type ZegoRoomLogoutResult,
  ZegoRoomState,
  type ZegoStream,
  type ZegoUser,
} from "./types.ts";

// The room over the media socket: login (app sign or token), room events, token renewal, the published and
// played streams, and reconnection. What the app asked for (room, user, token, streams) is kept apart from the
// socket that carries it, so when the socket drops the session can rebuild everything on a new one:
//
//   dropped (not kicked, not logged out)  -> Reconnecting (1002051), then up to maxAttempts tries, each after
//                                            a full-jitter exponential backoff: connect, log in with the
//                                            current token, re-publish, re-play -> Reconnected
//   a try refused with 1002078 (the token ran out while the link was down: the server's warning went to the
//   dropped socket)                      -> onRoomTokenWillExpire(room, 0), as the warning would have said,
//                                            and a wait (up to a request's timeout) for the app's renewToken;
//                                            renewed: the next try logs in with the new token
//   a try refused for good (token expired, wrong sign, room full) or the attempts used up
//                                         -> ReconnectFailed (the refusal's code, or 1002053): the room is left
//   kicked (close 4000 after `kicked`)    -> KickOut with the server's code; never reconnects
//   logoutRoom / destroy during any of it -> the tries stop at their next await
//
// One room at a time (the SDK's single-room mode) and one published stream (the main publish channel).

export interface RoomSessionHooks {
  emit<K extends keyof ExpressEngineEvents>(event: K, ...args: Parameters<ExpressEngineEvents[K]>): void;
  /** Whether the app listens for `event` (no listener: nobody will answer it, so nothing is waited for). */
  listens?(event: keyof ExpressEngineEvents): boolean;
  onFrame(data: Buffer): void;
  /** The published stream is live on a (new) socket: packet numbering must restart. */
  onPublishLive(streamID: string): void;
  /** A new socket replaced a dropped one: played streams start over from the live edge. */
  onSocketReplaced(): void;
  /** The room is gone (logout, kick, reconnect failure): publishing (of `published`) and playing stopped. */
  onRoomEnded(errorCode: number, published: string | null): void;
}

export interface RoomSessionOptions {
  mediaUrl: string;
  appID: number;
  appSign?: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  /** framedWrites / readPackets for every media socket this session opens (MediaSocket.open). */
  socketTuning?: MediaSocketTuning;
  reconnect: RetryPolicy;
  logger: Logger;
  hooks: RoomSessionHooks;
}

interface Login {
  roomID: string;
  user: Required<ZegoUser>;
  token: string | undefined;
}

/** Login refusals worth another try during a reconnect: the network, not the credentials or the room. */
const RETRYABLE_LOGIN_CODES = new Set([1002030, 1002031, 1002052, 1002071, 1002099]);

const ext = (): Record<string, unknown> => ({});

export class RoomSession {
  private socket: MediaSocket | null = null;
  private login: Login | null = null;
  private publishing: string | null = null;
  /** The published stream is confirmed on the current socket: packets may go out. */
  private publishLive = false;
  private readonly playing = new Set<string>();
  private users = new Map<string, Required<ZegoUser>>();
  private streams = new Map<string, ZegoStream>();
  private reconnecting: AbortController | null = null;
  private kicked: { code: number; message: string } | null = null;
  /** A loginRoom is under way: a second one is refused like a second room (1002001). */
  private loggingIn = false;
  private current: ZegoRoomState = ZegoRoomState.Disconnected;
  /** Completed reconnects since login. */
  reconnects = 0;
  /** A reconnect waiting for the app's renewToken (askForToken): called when it comes. */
  private tokenRenewed: (() => void) | null = null;

  constructor(private readonly o: RoomSessionOptions) {}

  get roomID(): string | null {
    return this.login?.roomID ?? null;
  }

  get user(): Required<ZegoUser> | null {
    return this.login?.user ?? null;
  }

  /** The token the room was logged in (or renewed) with. */
  get token(): string | undefined {
    return this.login?.token;
  }

  get state(): ZegoRoomState {
    return this.current;
  }

  get publishedStream(): string | null {
    return this.publishing;
  }

  async loginRoom(roomID: string, user: ZegoUser, config: ZegoRoomConfig = {}): Promise<ZegoRoomLoginResult> {
    if (this.login || this.loggingIn) {
      return { errorCode: 1002001, extendedData: { room_id: this.login?.roomID ?? roomID } };
    }
    const token = config.token === "" ? undefined : config.token;
    if (!this.o.appSign && token === undefined) return { errorCode: 1002067, extendedData: ext() };
    const login: Login = {
      roomID,
      user: { userID: user.userID, userName: user.userName ?? user.userID },
      token,
    };
    this.kicked = null;
    this.loggingIn = true;
    this.changeState(roomID, Reason.Logining, 0);
    try {
      const { socket, ok } = await this.connectAndLogin(login);
      this.loggingIn = false;
      this.socket = socket;
      this.login = login;
      this.reconnects = 0;
      this.applyRoster(ok);
      this.changeState(roomID, Reason.Logined, 0);
      // Closed between the answer and now: its close event was ignored (not yet ours), so act on it here.
      if (!socket.isOpen) this.onClose(1006, "");
      return { errorCode: 0, extendedData: { token_expire_at: ok.token_expire_at } };
    } catch (err) {
      this.loggingIn = false;
      const code = codeOf(err, 1002099);
      this.changeState(roomID, Reason.LoginFailed, code);
      return { errorCode: code, extendedData: { message: err instanceof Error ? err.message : String(err) } };
    }
  }

  async logoutRoom(roomID?: string): Promise<ZegoRoomLogoutResult> {
    const login = this.login;
    if (!login || (roomID !== undefined && roomID !== login.roomID)) {
      return { errorCode: 1002002, extendedData: ext() };
    }
    const socket = this.socket;
    this.end(Reason.Logout, 0);
    if (socket?.isOpen) {
      // Best effort: the server also cleans up when the socket closes.
      await socket
        .request({ type: "logout", room_id: login.roomID }, this.o.requestTimeoutMs)
        .catch(() => {});
      socket.close();
    }
    return { errorCode: 0, extendedData: ext() };
  }

  /** Replaces the login token (after onRoomTokenWillExpire); a reconnect logs in with the newest one. */
  async renewToken(roomID: string, token: string): Promise<void> {
    const login = this.login;
    if (!login || login.roomID !== roomID) throw new ZegoError(1002002, `not logged in to room ${roomID}`);
    if (!token) throw new ZegoError(1000017, "token is empty");
    login.token = token;
    this.tokenRenewed?.();
    const socket = this.socket;
    if (!socket?.isOpen) return;
    const reply = await socket.request({ type: "renew_token", token }, this.o.requestTimeoutMs);
    if (reply.type === "error") throw new ZegoError(reply.code, reply.message);
  }

  /** Publishes `streamID`; while reconnecting, it is published once the new socket is up. */
  async publish(streamID: string): Promise<void> {
    const login = this.needLogin();
    if (this.publishing !== null && this.publishing !== streamID) {
      throw new ZegoError(
        1000017,
        `already publishing ${this.publishing} on the main channel: stop it first`,
      );
    }
    const socket = this.socket;
    if (!socket?.isOpen) {
      this.publishing = streamID;
      return;
    }
    const reply = await socket.request({ type: "publish", stream_id: streamID }, this.o.requestTimeoutMs);
    if (reply.type === "error") throw new ZegoError(reply.code, reply.message);
    if (this.login !== login || this.socket !== socket) throw new ZegoError(1002052, "room left meanwhile");
    this.publishing = streamID;
    this.publishLive = true;
    this.o.hooks.onPublishLive(streamID);
  }

  async unpublish(streamID: string): Promise<void> {
    if (this.publishing !== streamID) return;
    this.publishing = null;
    this.publishLive = false;
    const socket = this.socket;
    if (socket?.isOpen) {
      await socket
        .request({ type: "stop_publish", stream_id: streamID }, this.o.requestTimeoutMs)
        .catch(() => {});
    }
  }

  /** Plays `streamID`: "playing" once the server accepted, "queued" while reconnecting (played once back). */
  async play(streamID: string): Promise<"playing" | "queued"> {
    this.needLogin();
    this.playing.add(streamID);
    const socket = this.socket;
    if (!socket?.isOpen) return "queued";
    try {
      const reply = await socket.request({ type: "play", stream_id: streamID }, this.o.requestTimeoutMs);
      if (reply.type === "error") throw new ZegoError(reply.code, reply.message);
      return "playing";
    } catch (err) {
      this.playing.delete(streamID);
      throw err;
    }
  }

  async unplay(streamID: string): Promise<void> {
    if (!this.playing.delete(streamID)) return;
    const socket = this.socket;
    if (socket?.isOpen) {
      await socket
        .request({ type: "stop_play", stream_id: streamID }, this.o.requestTimeoutMs)
        .catch(() => {});
    }
  }

  /** One published packet; false when it cannot go out now (reconnecting, backed up). */
  sendFrame(packet: Uint8Array): boolean {
    return this.publishLive && this.socket?.sendFrame(packet) === true;
  }

  /** Drops the socket as a network failure would: the session reconnects (tests, stuck links). */
  dropConnection(): void {
    this.socket?.terminate();
  }

  /** Leaves everything without a word to the server (engine destroy). */
  close(): void {
    const socket = this.socket;
    if (this.login) this.end(Reason.Logout, 0);
    socket?.close();
  }

  // ---- connecting ------------------------------------------------------------------------------------------

  private async connectAndLogin(
    login: Login,
    signal?: AbortSignal,
  ): Promise<{ socket: MediaSocket; ok: ServerMessageOf<"login_ok"> }> {
    let socket: MediaSocket | null = null;
    socket = await MediaSocket.open(
      this.o.mediaUrl,
      {
        onPush: (msg) => {
          if (socket === this.socket) this.onPush(msg);
        },
        onFrame: (data) => {
          if (socket === this.socket) this.o.hooks.onFrame(data);
        },
        onClose: (code, reason) => {
          if (socket === this.socket) this.onClose(code, reason);
        },
      },
      {
        timeoutMs: this.o.connectTimeoutMs,
        logger: this.o.logger,
        ...(signal ? { signal } : {}),
        framedWrites: this.o.socketTuning?.framedWrites === true,
        readPackets: this.o.socketTuning?.readPackets === true,
      },
    );
    try {
      const reply = await socket.request(
        {
          type: "login",
          room_id: login.roomID,
          user_id: login.user.userID,
          user_name: login.user.userName,
          app_id: this.o.appID,
          ...(this.o.appSign ? { app_sign: this.o.appSign } : {}),
          ...(login.token !== undefined ? { token: login.token } : {}),
        },
        this.o.requestTimeoutMs,
        1002031,
      );
      if (reply.type === "error") throw new ZegoError(reply.code, reply.message);
      if (reply.type !== "login_ok") throw new ZegoError(1002099, `unexpected answer ${reply.type} to login`);
      signal?.throwIfAborted();
      return { socket, ok: reply };
    } catch (err) {
      socket.close();
      throw err;
    }
  }

  private onClose(code: number, reason: string): void {
    this.socket = null;
    this.publishLive = false;
    const login = this.login;
    if (!login) return;
    if (code === MediaClose.Kicked || this.kicked) {
      const kicked = this.kicked ?? { code: Number(reason) || 1002055, message: reason };
      this.end(Reason.KickOut, kicked.code);
      this.o.hooks.emit("onKicked", login.roomID, kicked.code, kicked.message);
      return;
    }
    // Dropped while a reconnect restores streams on it: that loop sees its request fail and tries again.
    if (this.reconnecting) return;
    this.o.logger.warn({ room_id: login.roomID, code, reason }, "media socket dropped: reconnecting");
    void this.reconnect(login);
  }

  private async reconnect(login: Login): Promise<void> {
    const ctl = new AbortController();
    this.reconnecting = ctl;
    this.changeState(login.roomID, Reason.Reconnecting, 1002051);
    const p = this.o.reconnect;
    let failure = 1002053;
    let askedForToken = false;
    for (let attempt = 0; attempt < p.maxAttempts; attempt++) {
      try {
        // Waits before the first try too: a server restart drops a crowd at once, and jitter spreads it out.
        await p.sleep(backoffDelay(attempt, p) ?? p.maxDelayMs, ctl.signal);
        const { socket, ok } = await this.connectAndLogin(login, ctl.signal);
        if (ctl.signal.aborted || this.login !== login) {
          socket.close();
          return;
        }
        this.socket = socket;
        this.o.hooks.onSocketReplaced();
        this.applyRoster(ok);
        await this.restoreStreams(socket, login);
        if (this.login !== login) return;
        this.reconnecting = null;
        this.reconnects++;
        this.changeState(login.roomID, Reason.Reconnected, 0);
        if (!socket.isOpen) this.onClose(1006, "");
        return;
      } catch (err) {
        if (ctl.signal.aborted || this.login !== login) return;
        const code = codeOf(err, 1002030);
        this.o.logger.warn({ room_id: login.roomID, attempt: attempt + 1, code }, "reconnect attempt failed");
        if (code === TOKEN_EXPIRED && !askedForToken) {
          askedForToken = true;
          if (await this.askForToken(login, ctl.signal)) continue;
          if (ctl.signal.aborted || this.login !== login) return;
        }
        if (!RETRYABLE_LOGIN_CODES.has(code)) {
          failure = code;
          break;
        }
      }
    }
    if (this.login === login) this.end(Reason.ReconnectFailed, failure);
  }

  /**
   * The token ran out while the link was down: tells the app as the server's warning would have (remaining 0 s)
   * and waits, up to a request's timeout, for its renewToken. True when a new token came. Nothing is waited
   * for when the app does not listen for the warning.
   */
  private async askForToken(login: Login, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted || this.o.hooks.listens?.("onRoomTokenWillExpire") === false) return false;
    const sent = login.token;
    const renewed = new Promise<boolean>((resolve) => {
      const settle = (v: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        this.tokenRenewed = null;
        resolve(v);
      };
      const onAbort = () => settle(false);
      const timer = setTimeout(() => settle(false), this.o.requestTimeoutMs);
      signal.addEventListener("abort", onAbort, { once: true });
      this.tokenRenewed = () => settle(true);
    });
    this.o.hooks.emit("onRoomTokenWillExpire", login.roomID, 0);
    return (await renewed) && login.token !== sent;
  }

  /** Re-publishes and re-plays on a new socket; a stream the server now refuses is dropped and reported. */
  private async restoreStreams(socket: MediaSocket, login: Login): Promise<void> {
    const streamID = this.publishing;
    if (streamID !== null) {
      const reply = await socket.request({ type: "publish", stream_id: streamID }, this.o.requestTimeoutMs);
      if (this.login !== login) return;
      if (reply.type === "error") {
        this.publishing = null;
        this.o.hooks.emit("onPublisherStateUpdate", streamID, ZegoPublisherState.NoPublish, reply.code, {
          message: reply.message,
        });
      } else {
        this.publishLive = true;
        this.o.hooks.onPublishLive(streamID);
      }
    }
    for (const id of [...this.playing]) {
      const reply = await socket.request({ type: "play", stream_id: id }, this.o.requestTimeoutMs);
      if (this.login !== login) return;
      if (reply.type === "error") {
        this.playing.delete(id);
        this.o.hooks.emit("onPlayerStateUpdate", id, ZegoPlayerState.NoPlay, reply.code, {
          message: reply.message,
        });
      } else {
        this.o.hooks.emit("onPlayerStateUpdate", id, ZegoPlayerState.Playing, 0, {});
      }
    }
  }

  /** Leaves the room for `reason`: stops reconnecting, forgets streams and roster, tells the engine. */
  private end(reason: Reason, errorCode: number): void {
    const login = this.login;
    if (!login) return;
    const published = this.publishing;
    this.reconnecting?.abort(new ZegoError(1002052, "room left"));
    this.reconnecting = null;
    this.login = null;
    this.publishing = null;
    this.publishLive = false;
    this.playing.clear();
    this.users = new Map();
    this.streams = new Map();
    this.changeState(login.roomID, reason, errorCode);
    this.o.hooks.onRoomEnded(errorCode, published);
  }

  private needLogin(): Login {
    if (!this.login) throw new ZegoError(1000002);
    return this.login;
  }

  private changeState(roomID: string, reason: Reason, errorCode: number): void {
    const state = stateOfReason(reason);
    const h = this.o.hooks;
    h.emit("onRoomStateChanged", roomID, reason, errorCode, ext());
    if (state !== this.current || errorCode !== 0) {
      this.current = state;
      h.emit("onRoomStateUpdate", roomID, state, errorCode, ext());
    }
  }

  // ---- room events -----------------------------------------------------------------------------------------

  private onPush(msg: ServerMessage): void {
    const login = this.login;
    switch (msg.type) {
      case "kicked":
        this.kicked = { code: msg.code, message: msg.message };
        return;
      case "room_user_update": {
        if (!login || msg.room_id !== login.roomID) return;
        const users = msg.users.map((u) => ({ userID: u.user_id, userName: u.user_name }));
        for (const u of users) {
          if (msg.update_type === UpdateType.Add) this.users.set(u.userID, u);
          else this.users.delete(u.userID);
        }
        this.o.hooks.emit("onRoomUserUpdate", login.roomID, msg.update_type, users);
        return;
      }
      case "room_stream_update": {
        if (!login || msg.room_id !== login.roomID) return;
        const streams = msg.streams.map(toStream);
        for (const s of streams) {
          if (msg.update_type === UpdateType.Add) this.streams.set(s.streamID, s);
          else this.streams.delete(s.streamID);
        }
        this.o.hooks.emit("onRoomStreamUpdate", login.roomID, msg.update_type, streams, ext());
        return;
      }
      case "token_will_expire":
        if (login && msg.room_id === login.roomID) {
          this.o.hooks.emit("onRoomTokenWillExpire", login.roomID, msg.remain_seconds);
        }
        return;
      case "error":
        this.o.logger.warn(
          { op: msg.op, code: msg.code, why: msg.message },
          "media server reported an error",
        );
        return;
      default:
        return;
    }
  }

  /**
   * The users and streams a login_ok lists, as events: at first login everything is new; after a reconnect
   * only the difference to what the app already knows (those who left meanwhile are deleted).
   */
  private applyRoster(ok: ServerMessageOf<"login_ok">): void {
    const roomID = ok.room_id;
    const users = new Map(ok.users.map((u) => [u.user_id, { userID: u.user_id, userName: u.user_name }]));
    const streams = new Map(ok.streams.map((s) => [s.stream_id, toStream(s)]));
    const goneUsers = [...this.users.values()].filter((u) => !users.has(u.userID));
    const newUsers = [...users.values()].filter((u) => !this.users.has(u.userID));
    const goneStreams = [...this.streams.values()].filter((s) => !streams.has(s.streamID));
    const newStreams = [...streams.values()].filter((s) => !this.streams.has(s.streamID));
    this.users = users;
    this.streams = streams;
    const h = this.o.hooks;
    if (goneUsers.length > 0) h.emit("onRoomUserUpdate", roomID, UpdateType.Delete, goneUsers);
    if (newUsers.length > 0) h.emit("onRoomUserUpdate", roomID, UpdateType.Add, newUsers);
    if (goneStreams.length > 0) h.emit("onRoomStreamUpdate", roomID, UpdateType.Delete, goneStreams, ext());
    if (newStreams.length > 0) h.emit("onRoomStreamUpdate", roomID, UpdateType.Add, newStreams, ext());
  }
}

function toStream(s: { stream_id: string; user_id: string; user_name: string }): ZegoStream {
  return { streamID: s.stream_id, user: { userID: s.user_id, userName: s.user_name }, extraInfo: "" };
}
