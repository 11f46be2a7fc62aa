import { MediaClose, type ServerMessage } from "../../protocol/media.ts";
import type { Clock } from "../clock.ts";
import { type MediaHub, streamStats } from "./hub.ts";

// The media server's periodic duties, in one timer: token expiry (warn, then kick with 1002056), sockets that
// never log in (1002031), WebSocket keepalive, and stream_stats pushes. Token times follow the simulator
// clock (so tests and fault windows can move them); network liveness follows real time.

export interface SweepState {
  lastPingAt: number;
  lastStatsAt: number;
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
  if (nowReal - st.lastPingAt >= o.pingIntervalMs) {
    st.lastPingAt = nowReal;
    for (const peer of [...hub.peers]) {
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
  }
  if (o.statsIntervalMs > 0 && nowReal - st.lastStatsAt >= o.statsIntervalMs) {
    st.lastStatsAt = nowReal;
    for (const s of hub.streams.all()) {
      if (!s.publisher) continue;
      const msg: ServerMessage = { type: "stream_stats", ...streamStats(s) };
      const text = JSON.stringify(msg);
      s.publisher.sendText(text);
      for (const p of s.players) p.sendText(text);
    }
  }
}

/** Runs sweepOnce every sweepIntervalMs until the returned stop function is called. */
export function startSweep(hub: MediaHub, clock: Clock): () => void {
  const t0 = performance.now();
  const st: SweepState = { lastPingAt: t0, lastStatsAt: t0 };
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
