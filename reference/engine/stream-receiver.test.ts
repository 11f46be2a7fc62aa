import { describe, expect, it } from "vitest";
import {
  Codec,
  encodeFrame,
  FrameFlag,
  type FrameHeader,
  MAX_FRAME_BYTES,
  streamHash,
} from "../../protocol/media.ts";
import { StreamReceiver } from "./stream-receiver.ts";

function frame(streamID: string, seq: number, samples: number[], flags = 0): Buffer {
  const pcm = Buffer.alloc(samples.length * 2);
  for (const [i, v] of samples.entries()) pcm.writeInt16LE(v, i * 2);
  const out = Buffer.alloc(MAX_FRAME_BYTES);
  const n = encodeFrame(
    out,
    {
      flags,
      codec: Codec.PcmS16le,
      streamHash: streamHash(streamID),
      seq,
      captureUs: 1e15,
      sampleRate: 48_000,
      channels: 2,
    },
    pcm,
  );
  return out.subarray(0, n);
}

/** The same bytes at an odd offset of a bigger buffer, as a socket's read buffer may hand them over. */
function oddlyPlaced(b: Buffer): Buffer {
  const big = Buffer.alloc(b.length + 3);
  b.copy(big, 1);
  return big.subarray(1, 1 + b.length);
}

describe("StreamReceiver", () => {
  it("hands each played stream its samples and header, whatever the buffer's alignment", () => {
    const r = new StreamReceiver();
    const got: { id: string; pcm: number[]; seq: number }[] = [];
    r.add("a", (pcm, h: Readonly<FrameHeader>, id) => got.push({ id, pcm: [...pcm], seq: h.seq }));
    r.add("b", (pcm, h, id) => got.push({ id, pcm: [...pcm], seq: h.seq }));
    r.onFrame(oddlyPlaced(frame("a", 0, [1, -2, 32767, -32768])));
    r.onFrame(frame("b", 5, [7, 8]));
    expect(got).toEqual([
      { id: "a", pcm: [1, -2, 32767, -32768], seq: 0 },
      { id: "b", pcm: [7, 8], seq: 5 },
    ]);
  });

  it("counts missing packets by sequence (a late one is found again), and resets on the restart flag", () => {
    const r = new StreamReceiver();
    r.add("s");
    for (const seq of [0, 1, 4, 3, 5]) r.onFrame(frame("s", seq, [0, 0]));
    // 2 and 3 were missing when 4 came; 3 arrived late; 2 is lost.
    expect(r.stats("s")).toEqual({ frames: 5, bytes: 20, lost: 1, discontinuities: 0 });
    // The publisher reconnected: numbering restarts at 0 with the flag, which is not 2^32 - 6 lost packets.
    r.onFrame(frame("s", 0, [0, 0], FrameFlag.Discontinuity));
    r.onFrame(frame("s", 1, [0, 0]));
    expect(r.stats("s")).toMatchObject({ frames: 7, lost: 1, discontinuities: 1 });
  });

  it("drops frames of streams it does not play and frames that do not decode", () => {
    const r = new StreamReceiver();
    let calls = 0;
    r.add("mine", () => calls++);
    r.onFrame(frame("other", 0, [1, 1]));
    r.onFrame(Buffer.from("not a frame at all, but long enough to have a header"));
    r.onFrame(frame("mine", 0, [1, 1]).subarray(0, 30));
    expect([calls, r.unrouted, r.malformed]).toEqual([0, 1, 2]);
    expect(r.remove("mine")).toMatchObject({ frames: 0 });
    expect(r.has("mine")).toBe(false);
  });
});
