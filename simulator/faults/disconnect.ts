import { type Static, Type } from "@sinclair/typebox";
import { defineKind } from "./kind.ts";
import { streamSelectorIssues } from "./media.ts";

// disconnect: the media server closes the connection of a publisher it picked, as a media node restarting or
// a load balancer shedding connections would (WebSocket close 1012, "service restart": not a kick, so the
// client's reconnect must log in again, publish again and carry on). Streams are picked like the `media`
// kind's (app_id, room_fraction, user_fraction, stream_ids; `probability`, `first`/`every`/`max` per
// publication, seeded), and a picked stream's connection is closed when its `after_frames`-th frame arrives
// (0: its first). A stream published again after the reconnect is a new publication: picked again or not by
// the same rules, so `first: 1` (count_scope "user") disconnects a user once, and `probability: 1` without
// limits disconnects every publication after the same number of frames.

const schema = Type.Object({
  after_frames: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 1_000_000,
      description: "frames of the publication relayed before its connection is closed (default 0)",
    }),
  ),
});
type DisconnectFault = Static<typeof schema> & { selector?: Record<string, unknown> };

interface StreamState {
  /** Frames of this publication seen so far. */
  seen: number;
  fired: boolean;
}

export default defineKind<DisconnectFault, StreamState>({
  kind: "disconnect",
  summary:
    "the media server closes the picked publishers' connections (close 1012) after `after_frames` frames; clients must reconnect",
  schema,
  check: (f) => streamSelectorIssues(f.selector),
  phases: () => ["media"],
  mediaStream: () => ({ seen: 0, fired: false }),
  mediaFrame(fault, st, _seq, _rng, out) {
    if (st.fired) return;
    if (st.seen++ < (fault.after_frames ?? 0)) return;
    st.fired = true;
    out.disconnect = true;
  },
});
