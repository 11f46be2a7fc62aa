// A checkout's media relay for the relay benches that race trees side by side (a before/after in one session):
// treeMediaHub builds a real MediaHub in this process from a tree's own modules, loaded by path (relay-path.ts,
// relay-sweep.ts); startTreeRelay starts a tree's simulator, or the bare ws relay, as its own process
// (relay-edge.ts, relay-cpu.ts). Each tree's modules are its own: what differs between trees is only the code.

import { pathToFileURL } from "node:url";
import { type Started, startServer } from "./servers.ts";

/** One module of the tree, by its path from the tree's root ("simulator/media/sweep.ts"). */
export type TreeImport = (path: string) => Promise<unknown>;

// What the rigs use of a tree's hub, clock, options and protocol/media.ts: what every tree's has had (each
// tree's own types are not this tree's).
export interface TreePeer {
  awaitingPong: boolean;
}
export interface TreeMediaHub {
  accept(ws: unknown, ip: string): TreePeer;
  publish(peer: TreePeer, streamId: string): void;
  play(peer: TreePeer, streamId: string): void;
  deps: { metrics: { counters: { framesRelayed: number } } };
}
export interface TreeMedia {
  MAX_FRAME_BYTES: number;
  Codec: { Opus: number };
  streamHash(id: string): number;
  nowMicros(): number;
  encodeFrame(
    out: Buffer,
    h: {
      flags: number;
      codec: number;
      streamHash: number;
      seq: number;
      captureUs: number;
      sampleRate: number;
      channels: number;
    },
    payload: Uint8Array,
  ): number;
}

export interface TreeHub {
  hub: TreeMediaHub;
  /** The hub's virtual clock (manualClock). */
  clock: { now(): number };
  /** The resolved media options the hub runs with. */
  options: { sweepIntervalMs: number; statsIntervalMs: number; pingIntervalMs: number };
  /** The tree's frames.ts onFrame(hub, peer, bytes): a received frame as ws hands it over. */
  onFrame: (hub: TreeMediaHub, peer: unknown, bytes: Buffer) => void;
  media: TreeMedia;
  /** Any other module of the tree. */
  imp: TreeImport;
  /** A peer on `ws` (a stand-in socket) logged in to `room` as `user` with the development app's sign. */
  join(ws: unknown, room: string, user: string): TreePeer;
}

/**
 * A MediaHub of `tree` with the development app, an empty room registry, a manual clock, silent logs and
 * metrics on a fresh registry; with `faultShaper`, the real fault shaper over an engine with no faults (as in
 * a load run).
 */
export async function treeMediaHub(tree: string, o: { faultShaper?: boolean } = {}): Promise<TreeHub> {
  const imp = (p: string) => import(pathToFileURL(`${tree}/${p}`).href);
  const [{ MediaHub }, { onFrame }, { registerMediaMetrics }, { resolveMediaOptions }] = await Promise.all([
    imp("simulator/media/hub.ts"),
    imp("simulator/media/frames.ts"),
    imp("simulator/media/metrics.ts"),
    imp("simulator/media/options.ts"),
  ]);
  const { createAppRegistry } = await imp("simulator/auth/apps.ts");
  const { createRoomRegistry } = await imp("simulator/auth/rooms.ts");
  const { manualClock } = await imp("simulator/clock.ts");
  const { DEV_APP } = await imp("simulator/options.ts");
  const media = await imp("protocol/media.ts");
  const { Registry } = await import("prom-client");
  const pino = (await import("pino")).default;
  const clock = manualClock();
  const options = resolveMediaOptions({});
  let shaper: unknown;
  if (o.faultShaper) {
    const [engineMod, shaping] = await Promise.all([
      imp("simulator/faults/engine.ts"),
      imp("simulator/faults/media-shaping.ts"),
    ]);
    shaper = shaping.mediaFaultShaper(
      engineMod.createFaultEngine({ seed: 1, clock, profile: { faults: [] } }),
    );
  }
  const hub = new MediaHub({
    apps: createAppRegistry([DEV_APP]),
    rooms: createRoomRegistry(),
    clock,
    log: pino({ level: "silent" }),
    options,
    metrics: registerMediaMetrics(new Registry(), {
      connections: () => 0,
      rooms: () => 0,
      activeStreams: () => 0,
      players: () => 0,
    }),
    ...(shaper ? { shaper } : {}),
  });
  return {
    hub,
    clock,
    options,
    onFrame,
    media,
    imp,
    join(ws, room, user) {
      const peer = hub.accept(ws, "127.0.0.1");
      hub.login(peer, {
        type: "login",
        room_id: room,
        user_id: user,
        app_id: DEV_APP.app_id,
        app_sign: DEV_APP.app_sign,
      });
      return peer;
    },
  };
}

/**
 * `target`'s relay as its own process: "bare" is the bare ws relay (bench/server/bare-relay.ts of this tree),
 * anything else a tree whose `ktv sim` starts (in-memory ledger, warn logs). `cpus` pins it (taskset);
 * `nodeArgs` go before the script (e.g. --cpu-prof).
 */
export function startTreeRelay(
  target: string,
  o: { cpus?: string; nodeArgs?: string[] } = {},
): Promise<Started> {
  const pre = o.nodeArgs ?? [];
  return target === "bare"
    ? startServer([...pre, "bench/server/bare-relay.ts"], {}, { cpus: o.cpus })
    : startServer(
        [
          ...pre,
          "scenarios/cli/ktv.ts",
          "sim",
          "--port",
          "0",
          "--data-dir",
          ":memory:",
          "--log-level",
          "warn",
        ],
        {},
        { cwd: target, cpus: o.cpus },
      );
}
