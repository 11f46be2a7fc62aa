import type { FastifyBaseLogger } from "fastify";
import type { WebSocket } from "ws";
import { messageFor } from "../../protocol/codes.ts";
import {
  type LoginMsg,
  MediaClose,
  type MediaStreamInfo,
  type MediaUser,
  type ServerMessage,
  type StreamStats,
  streamIdProblem,
  UpdateType,
} from "../../protocol/media.ts";
import type { AppRegistry } from "../auth/apps.ts";
import { roomPrivilegeDenial } from "../auth/privilege.ts";
import type { RoomRegistry } from "../auth/rooms.ts";
import type { Clock } from "../clock.ts";
import { VendorError } from "../errors.ts";
import { checkLogin, checkRenewal } from "./credentials.ts";
import type { MediaMetrics } from "./metrics.ts";
import type { MediaOptions } from "./options.ts";
import { Peer } from "./peer.ts";
import { fanOut, type MediaShaper, passThrough } from "./relay.ts";
import { type MediaStream, StreamDirectory } from "./streams.ts";

// The media server's state and its rules: who is in which room (per app), who publishes and plays which
// stream, and the events room members see. Control messages (control.ts), frames (frames.ts) and timers
// (sweep.ts) act through it. Room membership is mirrored into the simulator's RoomRegistry so the vendor API
// (requestResource with room_id, getSharedResource) sees media logins.

export interface HubDeps {
  apps: AppRegistry;
  rooms: RoomRegistry;
  clock: Clock;
  log: FastifyBaseLogger;
  options: MediaOptions;
  metrics: MediaMetrics;
  shaper?: MediaShaper;
}

/** Standard WebSocket close code 1012 "service restart": the server's state is gone, reconnecting is right. */
export const RESET_CLOSE_CODE = 1012;
export const RESET_CLOSE_REASON = "simulator reset: reconnect and log in again";

const roomKey = (appId: number, roomId: string) => `${appId}\u0000${roomId}`;
const userKey = roomKey;
const illegal = (why: string) => new VendorError(1000017, `illegal parameter: ${why}`);

export class MediaHub {
  readonly peers = new Set<Peer>();
  readonly streams: StreamDirectory;
  readonly shaper: MediaShaper;
  private readonly roomPeers = new Map<string, Set<Peer>>();
  private readonly users = new Map<string, Peer>();
  private nextPeerId = 1;

  constructor(readonly deps: HubDeps) {
    this.shaper = deps.shaper ?? passThrough;
    const limit = deps.options.playerBufferLimitBytes;
    const counters = deps.metrics.counters;
    this.streams = new StreamDirectory((s) => (frame) => fanOut(s, frame, limit, counters));
  }

  get log(): FastifyBaseLogger {
    return this.deps.log;
  }

  accept(ws: WebSocket, remote: string): Peer {
    const peer = new Peer(
      this.nextPeerId++,
      ws,
      remote,
      performance.now(),
      this.deps.options.socketBufferHardLimitBytes,
    );
    this.peers.add(peer);
    return peer;
  }

  roomCount(): number {
    return this.roomPeers.size;
  }

  // ---- rooms ------------------------------------------------------------------------------------------------

  login(peer: Peer, m: LoginMsg): ServerMessage {
    try {
      const reply = this.admit(peer, m);
      this.deps.metrics.logins.inc({ code: "0" });
      return reply;
    } catch (e) {
      if (e instanceof VendorError) this.deps.metrics.logins.inc({ code: String(e.code) });
      throw e;
    }
  }

  private admit(peer: Peer, m: LoginMsg): ServerMessage {
    if (peer.login) {
      throw new VendorError(
        1002001,
        `already logged in to room ${JSON.stringify(peer.login.roomId)}: log out first`,
      );
    }
    const grant = checkLogin(m, this.deps.apps, this.deps.clock.now());
    const appId = grant.app.app_id;
    const rooms = this.deps.rooms;
    const members = rooms.members(appId, m.room_id);
    if (!members.includes(m.user_id) && members.length >= this.deps.options.roomCapacity) {
      throw new VendorError(
        1002034,
        `room ${JSON.stringify(m.room_id)} is full (${this.deps.options.roomCapacity} users)`,
      );
    }
    const previous = this.users.get(userKey(appId, m.user_id));
    if (previous && previous !== peer) this.kick(previous, 1002050);
    // Before anything of this login is recorded: a refusal at the room caps (limits.ts) leaves nothing behind.
    rooms.join(appId, m.room_id, m.user_id);

    const userName = m.user_name ?? m.user_id;
    peer.login = {
      appId,
      roomId: m.room_id,
      userId: m.user_id,
      userName,
      via: grant.via,
      tokenExpireAt: grant.tokenExpireAt,
      tokenPayload: grant.tokenPayload,
      warned: false,
    };
    const key = roomKey(appId, m.room_id);
    let inRoom = this.roomPeers.get(key);
    if (!inRoom) {
      inRoom = new Set();
      this.roomPeers.set(key, inRoom);
    }
    const users: MediaUser[] = [];
    const streams: MediaStreamInfo[] = [];
    for (const p of inRoom) {
      users.push({ user_id: p.login!.userId, user_name: p.login!.userName });
      for (const s of p.publishing.values()) streams.push(this.streamInfo(s));
    }
    inRoom.add(peer);
    this.users.set(userKey(appId, m.user_id), peer);
    this.toRoom(peer, {
      type: "room_user_update",
      room_id: m.room_id,
      update_type: UpdateType.Add,
      users: [{ user_id: m.user_id, user_name: userName }],
    });
    this.log.info(
      { peer: peer.id, app_id: appId, room_id: m.room_id, user_id: m.user_id, via: grant.via },
      "media login",
    );
    return {
      type: "login_ok",
      room_id: m.room_id,
      user_id: m.user_id,
      user_name: userName,
      users,
      streams,
      token_expire_at: grant.tokenExpireAt,
    };
  }

  /** logoutRoom: stops the peer's publishing and playing, leaves the room; the socket stays open. */
  logout(peer: Peer, roomId?: string): ServerMessage {
    const login = peer.login;
    if (!login) throw new VendorError(1002002);
    if (roomId !== undefined && roomId !== login.roomId) {
      throw new VendorError(1002002, `not logged in to room ${JSON.stringify(roomId)}`);
    }
    this.leaveRoom(peer);
    return { type: "logout_ok", room_id: login.roomId };
  }

  private leaveRoom(peer: Peer): void {
    const login = peer.login;
    if (!login) return;
    for (const s of [...peer.publishing.values()]) this.unpublish(peer, s);
    for (const s of [...peer.playing]) this.unplay(peer, s);
    const key = roomKey(login.appId, login.roomId);
    const inRoom = this.roomPeers.get(key);
    inRoom?.delete(peer);
    if (inRoom?.size === 0) this.roomPeers.delete(key);
    if (this.users.get(userKey(login.appId, login.userId)) === peer)
      this.users.delete(userKey(login.appId, login.userId));
    this.deps.rooms.leave(login.appId, login.roomId, login.userId);
    this.toRoom(peer, {
      type: "room_user_update",
      room_id: login.roomId,
      update_type: UpdateType.Delete,
      users: [{ user_id: login.userId, user_name: login.userName }],
    });
    peer.login = null;
    peer.idleSince = performance.now();
  }

  /** Sends `kicked` and closes the socket; the peer is out of its room at once, whatever the client does. */
  kick(peer: Peer, code: number, message = messageFor(code)): void {
    if (peer.gone) return;
    this.log.info(
      { peer: peer.id, code, user_id: peer.login?.userId, room_id: peer.login?.roomId },
      "media kick",
    );
    this.deps.metrics.kicks.inc({ code: String(code) });
    peer.send({ type: "kicked", code, message });
    this.drop(peer);
    peer.closeWithin(MediaClose.Kicked, String(code), this.deps.options.closeGraceMs);
  }

  /** The socket is gone (closed, kicked, terminated): undo everything it held. Idempotent. */
  drop(peer: Peer): void {
    if (peer.gone) return;
    this.leaveRoom(peer);
    peer.gone = true;
    this.peers.delete(peer);
  }

  renewToken(peer: Peer, token: string): ServerMessage {
    const login = peer.login;
    if (!login) throw new VendorError(1002002);
    const r = checkRenewal(token, login, this.deps.apps, this.deps.clock.now(), peer.publishing.size > 0);
    login.tokenExpireAt = r.tokenExpireAt;
    login.tokenPayload = r.tokenPayload;
    login.via = "token";
    login.warned = false;
    return { type: "renew_token_ok", token_expire_at: r.tokenExpireAt };
  }

  // ---- streams ----------------------------------------------------------------------------------------------

  private needLogin(peer: Peer) {
    if (!peer.login) throw new VendorError(1000002);
    return peer.login;
  }

  private checkStreamId(peer: Peer, appId: number, streamId: string): void {
    const why = streamIdProblem(streamId);
    if (why) throw illegal(why);
    const other = this.streams.collision(appId, streamId);
    if (other) throw illegal(`stream_id ${streamId} hashes like live stream ${other.id}: pick another id`);
    const max = this.deps.options.maxStreamsPerPeer;
    if (peer.publishing.size + peer.playing.size >= max) {
      throw illegal(`this socket already publishes and plays ${max} streams: stop one first`);
    }
  }

  publish(peer: Peer, streamId: string): ServerMessage {
    const login = this.needLogin(peer);
    const existing = this.streams.get(login.appId, streamId);
    if (existing && existing.publisher === peer)
      return { type: "publish_ok", stream_id: streamId, stream_hash: existing.hash };
    this.checkStreamId(peer, login.appId, streamId);
    // Privileges live in the token's payload; app-sign logins ("" payload) may do everything.
    const denial = roomPrivilegeDenial(login.tokenPayload, login.roomId, "publish");
    if (denial) throw new VendorError(1002082, denial);
    if (existing?.publisher) {
      throw illegal(`stream_id ${streamId} is being published by user ${existing.publisher.login?.userId}`);
    }
    const s = existing ?? this.streams.claim(login.appId, streamId);
    s.publisher = peer;
    s.stats.onNewPublisher();
    peer.publishing.set(s.hash, s);
    this.toRoom(peer, {
      type: "room_stream_update",
      room_id: login.roomId,
      update_type: UpdateType.Add,
      streams: [this.streamInfo(s)],
    });
    return { type: "publish_ok", stream_id: streamId, stream_hash: s.hash };
  }

  /** Idempotent, like stopPublishingStream: stopping a stream you do not publish is not an error. */
  stopPublish(peer: Peer, streamId: string): ServerMessage {
    const login = this.needLogin(peer);
    const s = this.streams.get(login.appId, streamId);
    if (s && s.publisher === peer) this.unpublish(peer, s);
    return { type: "stop_publish_ok", stream_id: streamId };
  }

  private unpublish(peer: Peer, s: MediaStream): void {
    const info = this.streamInfo(s);
    s.publisher = null;
    this.shaper.ended?.(s);
    peer.publishing.delete(s.hash);
    if (peer.login) {
      this.toRoom(peer, {
        type: "room_stream_update",
        room_id: peer.login.roomId,
        update_type: UpdateType.Delete,
        streams: [info],
      });
    }
    this.streams.releaseIfUnused(s);
  }

  /** Plays from the live edge: the player gets the next frame relayed after this, never a backlog. */
  play(peer: Peer, streamId: string): ServerMessage {
    const login = this.needLogin(peer);
    const existing = this.streams.get(login.appId, streamId);
    if (!existing || !peer.playing.has(existing)) this.checkStreamId(peer, login.appId, streamId);
    const s = existing ?? this.streams.claim(login.appId, streamId);
    s.players.add(peer);
    peer.playing.add(s);
    return { type: "play_ok", stream_id: streamId, stream_hash: s.hash, live: s.publisher !== null };
  }

  stopPlay(peer: Peer, streamId: string): ServerMessage {
    const login = this.needLogin(peer);
    const s = this.streams.get(login.appId, streamId);
    if (s && peer.playing.has(s)) this.unplay(peer, s);
    return { type: "stop_play_ok", stream_id: streamId };
  }

  private unplay(peer: Peer, s: MediaStream): void {
    s.players.delete(peer);
    peer.playing.delete(s);
    this.streams.releaseIfUnused(s);
  }

  /** Counters of one stream of the peer's app (any stream, not only the peer's own: ids are not secret). */
  statsFor(peer: Peer, streamId: string): StreamStats {
    const login = this.needLogin(peer);
    const s = this.streams.get(login.appId, streamId);
    if (!s) throw illegal(`no stream ${streamId} is published or played now`);
    return streamStats(s);
  }

  private streamInfo(s: MediaStream): MediaStreamInfo {
    const l = s.publisher?.login;
    return { stream_id: s.id, user_id: l?.userId ?? "", user_name: l?.userName ?? "" };
  }

  /** A room event to everyone in the peer's room but the peer. */
  private toRoom(peer: Peer, msg: ServerMessage): void {
    const l = peer.login;
    if (!l) return;
    const inRoom = this.roomPeers.get(roomKey(l.appId, l.roomId));
    if (!inRoom) return;
    if (inRoom.size === 1 && inRoom.has(peer)) return;
    const text = JSON.stringify(msg);
    for (const p of inRoom) if (p !== peer) p.sendText(text);
  }

  /** Everything, for shutdown: each socket is told the server is going away. */
  closeAll(): void {
    this.closeEvery(MediaClose.GoingAway, "simulator shutting down");
  }

  /**
   * POST /admin/reset: the seeded state has no media logins, so every socket is closed with 1012 (service
   * restart: reconnect and log in again) and forgotten with its rooms and streams. Returns how many.
   */
  reset(): number {
    const n = this.peers.size;
    if (n > 0) this.log.warn({ sockets: n }, "media sockets closed by simulator reset");
    this.closeEvery(RESET_CLOSE_CODE, RESET_CLOSE_REASON);
    return n;
  }

  private closeEvery(code: number, reason: string): void {
    for (const p of [...this.peers]) {
      this.drop(p);
      p.ws.close(code, reason);
    }
  }
}

/** The wire form of a stream's counters. */
export function streamStats(s: MediaStream): StreamStats {
  const st = s.stats;
  return {
    stream_id: s.id,
    stream_hash: s.hash,
    app_id: s.appId,
    room_id: s.publisher?.login?.roomId ?? null,
    publisher: s.publisher?.login?.userId ?? null,
    players: s.players.size,
    frames: st.frames,
    bytes: st.bytes,
    lost: st.seq.lost,
    gaps: st.seq.gaps,
    duplicates: st.seq.duplicates,
    reordered: st.seq.reordered,
    foreign_dropped: st.foreignDropped,
    relayed_frames: st.relayedFrames,
    relayed_bytes: st.relayedBytes,
    backpressure_drops: st.backpressureDrops,
    last_seq: st.lastSeq,
    latency_us: st.latencySummary(),
  };
}
