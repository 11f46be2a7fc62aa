import pino from "pino";
import { Registry } from "prom-client";
import type { WebSocket } from "ws";
import { createAppRegistry } from "../auth/apps.ts";
import { createRoomRegistry } from "../auth/rooms.ts";
import { manualClock } from "../clock.ts";
import { DEV_APP } from "../options.ts";
import { MediaHub } from "./hub.ts";
import { registerMediaMetrics } from "./metrics.ts";
import { type MediaOptions, resolveMediaOptions } from "./options.ts";
import type { Peer } from "./peer.ts";
import type { MediaShaper } from "./relay.ts";

// The hub without sockets, for the media unit tests (hub.test.ts, sweep.test.ts): fake WebSockets record what
// would be sent and how often they were pinged, so relay, backpressure and sweep timing are checked exactly on
// a manual clock (the socket-level tests are in login/relay/lifetime.test.ts).

export interface FakeSocket {
  readyState: number;
  bufferedAmount: number;
  sent: (string | Buffer)[];
  pings: number;
  send(d: string | Buffer): void;
  close(): void;
  terminate(): void;
  ping(): void;
}

export function fakeSocket(): FakeSocket {
  return {
    readyState: 1,
    bufferedAmount: 0,
    sent: [],
    pings: 0,
    send(d) {
      this.sent.push(d);
    },
    close() {
      this.readyState = 3;
    },
    terminate() {
      this.readyState = 3;
    },
    ping() {
      this.pings++;
    },
  };
}

/** A hub on a manual clock with `media` options; `join` logs a fake socket in to `room` as `user`. */
export function fakeHub(media: Partial<MediaOptions> = {}, shaper?: MediaShaper) {
  const hub = new MediaHub({
    apps: createAppRegistry([DEV_APP]),
    rooms: createRoomRegistry(),
    clock: manualClock(),
    log: pino({ level: "silent" }),
    options: resolveMediaOptions(media),
    metrics: registerMediaMetrics(new Registry(), {
      connections: () => 0,
      rooms: () => 0,
      activeStreams: () => 0,
      players: () => 0,
    }),
    ...(shaper ? { shaper } : {}),
  });
  const join = (user: string, room = "r"): { peer: Peer; ws: FakeSocket } => {
    const ws = fakeSocket();
    const peer = hub.accept(ws as unknown as WebSocket, "127.0.0.1");
    hub.login(peer, {
      type: "login",
      room_id: room,
      user_id: user,
      app_id: DEV_APP.app_id,
      app_sign: DEV_APP.app_sign,
    });
    return { peer, ws };
  };
  return { hub, join };
}
