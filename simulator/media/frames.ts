import { decodeFrameHeader, emptyFrameHeader, FrameError, nowMicros } from "../../protocol/media.ts";
import type { MediaHub } from "./hub.ts";
import type { Peer } from "./peer.ts";
import { relay } from "./relay.ts";

// A binary frame from a client: decode the header strictly, accept it only on a stream this socket publishes
// (the stream id belongs to its publisher; the hash in the frame names it), count it, and relay it.
// Refused frames are dropped, counted, and reported to the sender at most once per frameErrorIntervalMs.

// Decoding is synchronous and single-threaded: one scratch header serves every frame.
const header = emptyFrameHeader();

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
  relay(
    data,
    {
      app_id: login.appId,
      room_id: login.roomId,
      stream_id: stream.id,
      user_id: login.userId,
      seq: header.seq,
      capture_us: header.captureUs,
      received_us: receivedUs,
    },
    stream,
    hub.shaper,
  );
}
