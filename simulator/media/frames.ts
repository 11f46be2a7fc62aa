import { decodeFrameHeader, emptyFrameHeader, FrameError, nowMicros } from "../../protocol/media.ts";
import type { MediaHub } from "./hub.ts";
import type { Peer } from "./peer.ts";
import { type RelayContext, relay } from "./relay.ts";

// A binary frame from a client: decode the header strictly, accept it only on a stream this socket publishes
// (the stream id belongs to its publisher; the hash in the frame names it), count it, and relay it.
// Refused frames are dropped, counted, and reported to the sender at most once per frameErrorIntervalMs.

// Decoding is synchronous and single-threaded: one scratch header serves every frame, and one relay context
// (relay.ts: valid during the shaper's call only).
const header = emptyFrameHeader();
const ctx: RelayContext = {
  app_id: 0,
  room_id: "",
  stream_id: "",
  user_id: "",
  seq: 0,
  capture_us: 0,
  received_us: 0,
};

function report(hub: MediaHub, peer: Peer, code: number, message: string): void {
  const now = performance.now();
  if (now - peer.lastFrameErrorAt < hub.deps.options.frameErrorIntervalMs) {
    peer.frameErrorsSuppressed++;
    return;
  }
  const dropped = peer.frameErrorsSuppressed + 1;
  peer.lastFrameErrorAt = now;
  peer.frameErrorsSuppressed = 0;
  peer.send({ type: "error", op: "frame", code, message, dropped });
}

export function onFrame(hub: MediaHub, peer: Peer, data: Buffer): void {
  const counters = hub.deps.metrics.counters;
  const login = peer.login;
  if (!login) {
    counters.droppedNotLoggedIn++;
    report(hub, peer, 1000002, "frame dropped: log in and publish a stream before sending frames");
    return;
  }
  try {
    decodeFrameHeader(data, header);
  } catch (e) {
    counters.droppedMalformed++;
    report(hub, peer, 1000017, `frame dropped: ${e instanceof FrameError ? e.message : "undecodable"}`);
    return;
  }
  const stream = peer.publishing.get(header.streamHash);
  if (!stream) {
    const owned = hub.streams.byHash(login.appId, header.streamHash);
    if (owned) owned.stats.foreignDropped++;
    counters.droppedNotPublisher++;
    report(
      hub,
      peer,
      1000017,
      `frame dropped: this socket does not publish the stream with hash ${header.streamHash} (publish it first)`,
    );
    return;
  }
  const receivedUs = nowMicros();
  const lostBefore = stream.stats.seq.lost;
  const latencyUs = stream.stats.onFrame(header, data.length, receivedUs);
  const lostNow = stream.stats.seq.lost;
  if (lostNow > lostBefore) counters.framesMissing += lostNow - lostBefore;
  counters.framesReceived++;
  counters.bytesReceived += data.length;
  hub.deps.metrics.latency.observe(latencyUs / 1e6);
  ctx.app_id = login.appId;
  ctx.room_id = login.roomId;
  ctx.stream_id = stream.id;
  ctx.user_id = login.userId;
  ctx.seq = header.seq;
  ctx.capture_us = header.captureUs;
  ctx.received_us = receivedUs;
  relay(data, ctx, stream, hub.shaper);
}
