import { describe, expect, it } from "vitest";
import {
  Codec,
  encodeFrame,
  FrameFlag,
  type FrameHeader,
  MAX_FRAME_BYTES,
  nowMicros,
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

  it("hands the packet handler the arrival time its one clock read took (the time jitter is computed from)", () => {
    let nowUs = 5_000_000;
    let reads = 0;
    const r = new StreamReceiver({
      now: () => {
        reads++;
        return nowUs;
      },
    });
    const got: [number, number][] = [];
    r.add("s", undefined, (h, _id, arrivalUs) => got.push([h.seq, arrivalUs]));
    r.onFrame(frame("s", 0, [0, 0], 0, 4_990_000));
    nowUs = 5_020_500;
    r.onFrame(frame("s", 1, [0, 0], 0, 5_010_000));
    expect(got).toEqual([
      [0, 5_000_000],
      [1, 5_020_500],
    ]);
    expect(reads).toBe(2);
    // Transit 10 ms then 10.5 ms: the handler's latency and the receiver's jitter come from the same reads.
    expect(r.stats("s")!.jitterMs).toBeCloseTo(0.5 / 16, 9);
  });

  it("by default stamps arrivals on nowMicros's time base (epoch µs), read between the calls around it", () => {
    const r = new StreamReceiver();
    const at: number[] = [];
    r.add("s", undefined, (_h, _id, arrivalUs) => at.push(arrivalUs));
    const before = nowMicros();
    r.onFrame(frame("s", 0, [0, 0]));
    const after = nowMicros();
    expect(at).toHaveLength(1);
    expect(at[0]).toBeGreaterThanOrEqual(before);
    expect(at[0]).toBeLessThanOrEqual(after);
  });

  it("routes by the stream it last routed to only while that stream is played (remove, replace, re-add)", () => {
    const r = new StreamReceiver();
    const got: string[] = [];
    r.add("a", undefined, (h, id) => got.push(`${id}:${h.seq}`));
    r.add("b", undefined, (h, id) => got.push(`${id}:${h.seq}`));
    r.onFrame(frame("a", 0, [0, 0]));
    r.onFrame(frame("a", 1, [0, 0]));
    r.onFrame(frame("b", 0, [0, 0]));
    r.onFrame(frame("a", 2, [0, 0]));
    // Removed right after its packet: the next one of it is unrouted, not handed to the removed handler.
    r.remove("a");
    r.onFrame(frame("a", 3, [0, 0]));
    // Replaced (add again with another handler): the new handler gets the next packet.
    r.onFrame(frame("b", 1, [0, 0]));
    r.add("b", undefined, (h, id) => got.push(`new ${id}:${h.seq}`));
    r.onFrame(frame("b", 2, [0, 0]));
    // Re-added after its removal: routed again, counted from scratch.
    r.add("a", undefined, (h, id) => got.push(`again ${id}:${h.seq}`));
    r.onFrame(frame("a", 4, [0, 0]));
    expect(got).toEqual(["a:0", "a:1", "b:0", "a:2", "b:1", "new b:2", "again a:4"]);
    expect(r.unrouted).toBe(1);
    expect(r.stats("a")).toMatchObject({ frames: 1 });
  });
});
