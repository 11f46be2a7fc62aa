import { afterEach, describe, expect, it } from "vitest";
import { decodeFrameHeader } from "../../protocol/media.ts";
import { manualClock } from "../clock.ts";
import type { RelayContext } from "../media/relay.ts";
import type { MediaStream } from "../media/streams.ts";
import { pcmFrame } from "../media/test-client.ts";
import { createFaultEngine, type FaultEngine } from "./engine.ts";
import { HOLD_LIMIT_MS, type MediaFaultShaper, mediaFaultShaper } from "./media-shaping.ts";

// The shaper carrying out frame fates on the relay, with the real engine and a recording deliver(): exact
// displacement of reordered frames, duplicates back to back, delays on timers, and every release path
// (fault removed, disabled, stream ended, hold limit) sending what was held, in order, leaving nothing behind.

const STREAM_ID = "st";
const frames = new Map<number, Buffer>();
const frame = (seq: number) => {
  let f = frames.get(seq);
  if (!f) {
    f = pcmFrame(STREAM_ID, seq);
    frames.set(seq, f);
  }
  return f;
};

interface Rig {
  engine: FaultEngine;
  shaper: MediaFaultShaper;
  stream: MediaStream;
  got: number[];
  send(seqs: Iterable<number>): void;
}

const rigs: Rig[] = [];
afterEach(() => {
  // Whatever a test left held goes now, so no timer outlives it.
  for (const r of rigs.splice(0)) r.shaper.ended?.(r.stream);
});

function rig(faults: object[]): Rig {
  const engine = createFaultEngine({ seed: 11, clock: manualClock(), profile: { faults } });
  const shaper = mediaFaultShaper(engine);
  const stream = {} as MediaStream;
  const got: number[] = [];
  const deliver = (f: Buffer) => got.push(decodeFrameHeader(f).seq);
  const ctx: RelayContext = {
    app_id: 1,
    room_id: "room",
    stream_id: STREAM_ID,
    user_id: "singer",
    seq: 0,
    capture_us: 0,
    received_us: 0,
  };
  const r: Rig = {
    engine,
    shaper,
    stream,
    got,
    send(seqs) {
      for (const seq of seqs) shaper.shape(frame(seq), { ...ctx, seq }, deliver, stream);
    },
  };
  rigs.push(r);
  return r;
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The fates the engine gives frames 0..n-1 of the stream (a second engine: fates are pure). */
function fatesOf(faults: object[], n: number) {
  const e = createFaultEngine({ seed: 11, clock: manualClock(), profile: { faults } });
  const h = e.mediaStream({ app_id: 1, room_id: "room", user_id: "singer", stream_id: STREAM_ID }, () => {});
  return range(n).map((q) => ({ ...h.frame(q) }));
}

describe("media shaping", () => {
  it("is a pass-through when no media fault applies: each frame, the same Buffer, once, at once, in order", () => {
    for (const faults of [
      [],
      // A media fault for another stream, and a non-media fault: neither touches this stream's frames.
      [
        { id: "other", kind: "media", loss: 1, selector: { stream_ids: ["not-this-one"] } },
        { id: "http", kind: "latency", distribution: { type: "fixed", ms: 5 } },
      ],
    ]) {
      const r = rig(faults);
      const seen: Buffer[] = [];
      const ctx = {
        app_id: 1,
        room_id: "room",
        stream_id: STREAM_ID,
        user_id: "singer",
        capture_us: 0,
        received_us: 0,
      };
      for (const seq of range(200))
        r.shaper.shape(frame(seq), { ...ctx, seq }, (f) => seen.push(f), r.stream);
      expect(seen).toHaveLength(200);
      for (const [seq, f] of seen.entries()) expect(f).toBe(frame(seq));
      expect(r.shaper.pending(r.stream)).toBe(0);
      expect(r.engine.events()).toEqual([]);
    }
  });

  it("drops, duplicates back to back, and sends a frame held for k after exactly k later frames", () => {
    const faults = [
      {
        id: "mess",
        kind: "media",
        loss: 0.05,
        duplicate: 0.1,
        reorder: { probability: 0.2, max_displacement: 5 },
      },
    ];
    const r = rig(faults);
    r.send(range(2000));
    r.shaper.ended?.(r.stream);
    const fates = fatesOf(faults, 2000);
    const delivered = new Set(r.got);
    for (const [seq, f] of fates.entries()) {
      expect(delivered.has(seq)).toBe(!f.drop);
      if (f.drop) continue;
      const at = r.got.indexOf(seq);
      expect(r.got[at + 1] === seq).toBe(f.duplicates === 1);
      expect(r.got.filter((x) => x === seq)).toHaveLength(1 + f.duplicates);
      // Frames with a higher number that went out before this one: exactly its hold (the last few frames
      // went out when the stream ended, before enough later frames came).
      const overtaken = new Set(r.got.slice(0, at).filter((x) => x > seq)).size;
      if (seq < 1990) expect(overtaken, `frame ${seq} in ${r.got.slice(at - 8, at + 2)}`).toBe(f.holdFrames);
      else expect(overtaken).toBeLessThanOrEqual(f.holdFrames);
    }
    expect(fates.filter((f) => f.holdFrames > 0).length).toBeGreaterThan(300);
    expect(r.shaper.pending(r.stream)).toBe(0);
  });

  it("delays frames on timers, keeping the order of equal delays", async () => {
    const r = rig([{ id: "slow", kind: "media", delay: { type: "fixed", ms: 40 } }]);
    const t0 = performance.now();
    r.send(range(20));
    expect(r.got).toEqual([]);
    expect(r.shaper.pending(r.stream)).toBe(20);
    while (r.got.length < 20 && performance.now() - t0 < 2000) await sleep(5);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(39);
    expect(r.got).toEqual(range(20));
    expect(r.shaper.pending(r.stream)).toBe(0);
  });

  it("sends everything held, in arrival order, the moment the fault is removed", () => {
    const r = rig([
      { id: "slow", kind: "media", delay: { type: "fixed", ms: 9_000 } },
      { id: "shuffle", kind: "media", reorder: { probability: 0.5, max_displacement: 64 } },
    ]);
    r.send(range(50));
    const early = r.got.length;
    expect(r.shaper.pending(r.stream)).toBe(50 - early);
    expect(early).toBeLessThan(50);
    r.engine.replace({ faults: [] });
    expect([...r.got].sort((a, b) => a - b)).toEqual(range(50));
    expect(r.shaper.pending(r.stream)).toBe(0);
    // Later frames pass untouched.
    r.send([50, 51]);
    expect(r.got.slice(-2)).toEqual([50, 51]);
  });

  it("lets go when the fault is disabled, and when the stream ends", () => {
    const r = rig([{ id: "slow", kind: "media", delay: { type: "fixed", ms: 9_000 } }]);
    r.send(range(5));
    r.engine.setEnabled("slow", false);
    expect(r.got).toEqual(range(5));
    r.send([5]);
    expect(r.got).toEqual(range(6));
    r.engine.setEnabled("slow", true);
    r.send([6, 7]);
    expect(r.shaper.pending(r.stream)).toBe(2);
    r.shaper.ended?.(r.stream);
    expect(r.got).toEqual(range(8));
    expect(r.shaper.pending(r.stream)).toBe(0);
    // Disabling keeps the stream's window open: five frames before, two after.
    expect(r.engine.events().map((e) => [e.fault_id, e.effect.delayed])).toEqual([["slow", 7]]);
  });

  it("does not hold a frame past the hold limit when no later frame comes", async () => {
    const r = rig([{ id: "hold", kind: "media", reorder: { probability: 1, max_displacement: 3 } }]);
    const t0 = performance.now();
    r.send([0]);
    expect(r.got).toEqual([]);
    while (r.got.length === 0 && performance.now() - t0 < 3000) await sleep(20);
    expect(r.got).toEqual([0]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(HOLD_LIMIT_MS - 2);
    expect(r.shaper.pending(r.stream)).toBe(0);
  });
});
