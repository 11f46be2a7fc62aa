import { MediaClose, type ServerMessage } from "../../protocol/media.ts";
import type { Clock } from "../clock.ts";
import { type MediaHub, streamStats } from "./hub.ts";

// The media server's periodic duties, in one timer: token expiry (warn, then kick with 1002056), sockets that
// never log in (1002031), WebSocket keepalive, and stream_stats pushes. Token times follow the simulator
// clock (so tests and fault windows can move them); network liveness follows real time.
//
// Keepalive pings and stats pushes are spread over their period, not done for everyone in one sweep: each
// socket has its own ping time and each stream its own push time, at a phase picked when the sweep first sees
// it (a low-discrepancy sequence, so sockets and streams that arrive together still get phases spread evenly).
// Measured before this (CPU profile of the simulator relaying 100 rooms of 1 publisher + 4 players, the media
// relay bench's load): every 3 s one sweep ran 13-54 ms without a break, half of it the 100 latency summaries,
// half the 500 stream_stats writes; every 15 s the 500 pings went out in one go too. Frames that arrive
// meanwhile wait, and near the relay's capacity the backlog takes many times the block to drain: that, not
// the CPU per frame (equal to a bare ws relay's), put the relay bench's p99 lag over 20 ms at fewer rooms. Each
// sweep now does about sweepIntervalMs / period of each job. Each socket is still pinged once per
// pingIntervalMs and cut if it has not answered its previous ping; each stream still gets a push once per
// statsIntervalMs, its first within one period of appearing.

export interface SweepState {
  /** The last phase handed out, in [0, 1): the next is this + the golden ratio's fraction, mod 1. */
  phase: number;
}

const GOLDEN = 0.6180339887498949;

export function newSweepState(): SweepState {
  return { phase: 0 };
}

/** A phase in [0, 1) for the next newcomer: consecutive ones land far apart and fill the period evenly. */
function nextPhase(st: SweepState): number {
  st.phase = (st.phase + GOLDEN) % 1;
  return st.phase;
}

/** `due`, or for something the sweep has not seen yet (NaN) its first due time: within one period, at its phase. */
function dueTime(due: number, now: number, periodMs: number, st: SweepState): number {
  return Number.isNaN(due) ? now + periodMs * nextPhase(st) : due;
}

export function sweepOnce(hub: MediaHub, clock: Clock, nowReal: number, st: SweepState): void {
  const o = hub.deps.options;
  const now = clock.now();
  for (const peer of [...hub.peers]) {
    const login = peer.login;
    if (login) {
      const exp = login.tokenExpireAt;
      if (exp === null) continue;
      if (now >= exp) {
        hub.kick(peer, 1002056);
      } else if (!login.warned && exp - now <= o.tokenWarnSeconds * 1000) {
        login.warned = true;
        peer.send({
          type: "token_will_expire",
          room_id: login.roomId,
          remain_seconds: Math.ceil((exp - now) / 1000),
        });
      }
    } else if (nowReal - peer.idleSince >= o.loginTimeoutMs) {
      peer.send({
        type: "error",
        op: null,
        code: 1002031,
        message: `no room login within ${o.loginTimeoutMs} ms`,
      });
      hub.drop(peer);
      peer.closeWithin(MediaClose.LoginTimeout, "1002031", o.closeGraceMs);
    }
  }
  for (const peer of [...hub.peers]) {
    const due = dueTime(peer.pingDueAt, nowReal, o.pingIntervalMs, st);
    if (nowReal < due) {
      peer.pingDueAt = due;
      continue;
    }
    peer.pingDueAt = later(due, nowReal, o.pingIntervalMs);
    if (peer.awaitingPong) {
      hub.log.info({ peer: peer.id, remote: peer.remote }, "media socket missed a pong: terminated");
      hub.drop(peer);
      peer.ws.terminate();
      continue;
    }
    if (!peer.isOpen) continue;
    peer.awaitingPong = true;
    peer.ws.ping();
  }
  if (o.statsIntervalMs > 0) {
    for (const s of hub.streams.all()) {
      const due = dueTime(s.statsDueAt, nowReal, o.statsIntervalMs, st);
      if (nowReal < due) {
        s.statsDueAt = due;
        continue;
      }
      s.statsDueAt = later(due, nowReal, o.statsIntervalMs);
      if (!s.publisher) continue;
      const msg: ServerMessage = { type: "stream_stats", ...streamStats(s) };
      const text = JSON.stringify(msg);
      s.publisher.sendText(text);
      for (const p of s.players) p.sendText(text);
    }
  }
}

/** The due time after `due`, one period on (or one period from now, when the sweep fell that far behind). */
function later(due: number, now: number, periodMs: number): number {
  const next = due + periodMs;
  return next > now ? next : now + periodMs;
}

/** Runs sweepOnce every sweepIntervalMs until the returned stop function is called. */
export function startSweep(hub: MediaHub, clock: Clock): () => void {
  const st = newSweepState();
  const timer = setInterval(() => {
    try {
      sweepOnce(hub, clock, performance.now(), st);
    } catch (err) {
      hub.log.error({ err }, "media sweep failed");
    }
  }, hub.deps.options.sweepIntervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
