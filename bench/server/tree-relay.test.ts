import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { fakeSocket } from "../../simulator/media/fake-hub.ts";
import { treeMediaHub } from "./tree-relay.ts";

// The relay benches' shared rig (relay-path.ts, relay-sweep.ts): a tree's hub, built from the tree's modules
// by path, relays a real frame from a publisher to its room's players, with and without the fault shaper.

const tree = resolve(import.meta.dirname, "../..");

describe("treeMediaHub", () => {
  for (const faultShaper of [false, true]) {
    it(`relays a published frame to every player of the room (fault shaper: ${faultShaper})`, async () => {
      const { hub, onFrame, media, join } = await treeMediaHub(tree, { faultShaper });
      const pub = join(fakeSocket(), "room1", "singer");
      hub.publish(pub, "s1");
      const players = [fakeSocket(), fakeSocket()];
      for (const [i, ws] of players.entries()) hub.play(join(ws, "room1", `fan${i}`), "s1");
      const outsider = fakeSocket();
      join(outsider, "room2", "other");
      const out = Buffer.alloc(media.MAX_FRAME_BYTES);
      const n = media.encodeFrame(
        out,
        {
          flags: 0,
          codec: media.Codec.Opus,
          streamHash: media.streamHash("s1"),
          seq: 1,
          captureUs: media.nowMicros(),
          sampleRate: 48_000,
          channels: 2,
        },
        new Uint8Array(160),
      );
      onFrame(hub, pub, out.subarray(0, n));
      expect(hub.deps.metrics.counters.framesRelayed).toBe(2);
      for (const ws of players) {
        const frames = ws.sent.filter((d) => Buffer.isBuffer(d));
        expect(frames).toHaveLength(1);
        expect(Buffer.compare(frames[0] as Buffer, out.subarray(0, n))).toBe(0);
      }
      expect(outsider.sent.filter((d) => Buffer.isBuffer(d))).toHaveLength(0);
    });
  }
});
