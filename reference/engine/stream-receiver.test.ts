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

function frame(streamID: string, seq: number, samples: number[], flags = 0, captureUs = 1e15): Buffer {
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
      captureUs,
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
    expect(r.stats("s")).toMatchObject({ frames: 5, bytes: 20, wireBytes: 5 * 36, lost: 1, reordered: 1 });
    expect(r.stats("s")).toMatchObject({ duplicates: 0, discontinuities: 0 });
    // The publisher reconnected: numbering restarts at 0 with the flag, which is not 2^32 - 6 lost packets.
    r.onFrame(frame("s", 0, [0, 0], FrameFlag.Discontinuity));
    r.onFrame(frame("s", 1, [0, 0]));
    expect(r.stats("s")).toMatchObject({ frames: 7, lost: 1, discontinuities: 1 });
  });

  it("tells duplicates from late packets, inside and beyond its 32-packet window, across the wrap", () => {
    const r = new StreamReceiver();
    r.add("s");
    const seqs = [0, 1, 4, 3, 5, 5, 3, 40, 6, 2];
    for (const seq of seqs) r.onFrame(frame("s", seq, [0, 0]));
    // Missing when 40 came: 2, 6..39 (35). Then 6 came late (beyond the window: still late, not a dup),
    // and 2 came late (beyond the window too). 5 twice and 3 twice are duplicates.
    expect(r.stats("s")).toMatchObject({ frames: 10, lost: 33, reordered: 3, duplicates: 2 });
    const w = new StreamReceiver();
    w.add("w");
    for (const seq of [0xfffffffe, 0xffffffff, 1, 0, 1]) w.onFrame(frame("w", seq, [0, 0]));
    expect(w.stats("w")).toMatchObject({ frames: 5, lost: 0, reordered: 1, duplicates: 1 });
  });

  it("measures RFC 3550 interarrival jitter from capture times against arrival times", () => {
    let nowUs = 0;
    const r = new StreamReceiver({ now: () => nowUs });
    r.add("s");
    // Captured every 20 ms; transit 10, 12, 10, 14, 14 ms.
    const transitMs = [10, 12, 10, 14, 14];
    let j = 0;
    for (const [k, t] of transitMs.entries()) {
      nowUs = (k * 20 + t) * 1000;
      r.onFrame(frame("s", k, [0, 0], 0, k * 20_000));
      if (k > 0) j += (Math.abs(t - transitMs[k - 1]!) - j) / 16;
    }
    expect(j).toBeCloseTo(0.4472, 3);
    expect(r.stats("s")!.jitterMs).toBeCloseTo(j, 9);
    // A constant delay, however long, is no jitter.
    const c = new StreamReceiver({ now: () => nowUs });
    c.add("c");
    for (let k = 0; k < 5; k++) {
      nowUs = k * 20_000 + 250_000;
      c.onFrame(frame("c", k, [0, 0], 0, k * 20_000));
    }
    expect(c.stats("c")!.jitterMs).toBe(0);
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
