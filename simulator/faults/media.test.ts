import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { manualClock } from "../clock.ts";
import { createFaultEngine, type FaultEngine } from "./engine.ts";
import { MAX_MEDIA_DELAY_MS } from "./media.ts";
import { MEDIA_ROUTE } from "./media-plan.ts";
import { checkProfile } from "./profile.ts";
import type { FrameFate, MediaSubject } from "./seam.ts";

// The media kind and the engine's media phase without sockets: parameters, the statistics of every effect,
// how streams are picked (selector, probability, counts, PATCH, windows), determinism, releases, and the
// per-second event aggregation. The same effects seen by real WebSocket players are in media-ws.test.ts.

const errorsOf = (fault: object) => {
  const r = checkProfile({ faults: [{ id: "m", kind: "media", ...fault }] });
  return r.ok ? [] : r.errors;
};

function rig(faults: object[], seed = 7) {
  const clock = manualClock();
  const registry = new Registry();
  const e = createFaultEngine({ seed, clock, registry, profile: { faults } });
  return { e, clock, registry };
}

const subject = (stream_id = "st", user_id = "singer", app_id = 1, room_id = "room"): MediaSubject => ({
  app_id,
  room_id,
  user_id,
  stream_id,
});

/** The fates of frames `seqs` of one stream, copied (the engine reuses its fate object). */
function fates(e: FaultEngine, seqs: Iterable<number>, s = subject(), release = () => {}): FrameFate[] {
  const h = e.mediaStream(s, release);
  const out: FrameFate[] = [];
  for (const q of seqs) out.push({ ...h.frame(q) });
  h.close();
  return out;
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
const near = (x: number, n: number, p: number) => Math.abs(x - n * p) < 4 * Math.sqrt(n * p * (1 - p));

/** Lengths of the runs of consecutive dropped frames. */
function runs(drops: boolean[]): number[] {
  const out: number[] = [];
  let run = 0;
  for (const d of drops) {
    if (d) run++;
    else if (run > 0) {
      out.push(run);
      run = 0;
    }
  }
  if (run > 0) out.push(run);
  return out;
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function injected(registry: Registry, id: string): Promise<number> {
  const m = await registry.getSingleMetric("faults_injected_total")!.get();
  return m.values.find((v) => v.labels.fault_id === id)?.value ?? 0;
}

describe("media fault parameters", () => {
  it("accepts every effect together and refuses a fault without one", () => {
    expect(
      errorsOf({
        loss: 0.01,
        burst_loss: { p_good_to_bad: 0.01, p_bad_to_good: 0.3, loss_in_bad: 0.9, loss_in_good: 0.001 },
        jitter: { type: "normal", mean: 20, stddev: 10, max: 100 },
        delay: { type: "fixed", ms: 80 },
        duplicate: 0.01,
        reorder: { probability: 0.02, max_displacement: 3 },
        selector: { app_id: 1, room_fraction: 0.5, user_fraction: 0.5, stream_ids: ["a", "b"] },
      }),
    ).toEqual([]);
    expect(errorsOf({})).toEqual([
      "faults[0]: a media fault needs `loss`, `burst_loss`, `jitter`, `delay`, `duplicate` or `reorder`",
    ]);
  });

  it("names each bad field and why", () => {
    expect(errorsOf({ loss: 1.5 })).toEqual(["faults[0].loss: must be <= 1"]);
    expect(errorsOf({ burst_loss: { p_good_to_bad: 0.1, p_bad_to_good: 0 } })).toEqual([
      "faults[0].burst_loss.p_bad_to_good: must be > 0",
    ]);
    expect(errorsOf({ burst_loss: { p_good_to_bad: 0.1 } })).toEqual([
      "faults[0].burst_loss.p_bad_to_good: is required",
    ]);
    expect(errorsOf({ reorder: { probability: 0.1, max_displacement: 65 } })).toEqual([
      "faults[0].reorder.max_displacement: must be <= 64",
    ]);
    expect(errorsOf({ duplicate: -0.1 })).toEqual(["faults[0].duplicate: must be >= 0"]);
    expect(errorsOf({ jitter: { type: "fixed", ms: 20_000 } })).toEqual([
      `faults[0].jitter: media delays are capped at ${MAX_MEDIA_DELAY_MS} ms`,
    ]);
    expect(errorsOf({ loss: 0.1, selector: { song_ids: ["x"], command: "/search/song" } })).toEqual([
      "faults[0].selector.command: media faults pick streams: use app_id, room_fraction, user_fraction or stream_ids",
      "faults[0].selector.song_ids: media faults pick streams: use app_id, room_fraction, user_fraction or stream_ids",
    ]);
  });

  it("lets only media faults select streams", () => {
    const r = checkProfile({
      faults: [{ id: "e", kind: "error", code: 1017097, selector: { stream_ids: ["a"] } }],
    });
    expect(r.ok ? [] : r.errors).toEqual(["faults[0].selector.stream_ids: only media faults select streams"]);
  });
});

describe("media effects", () => {
  it("loss: each frame independently, at the configured rate", () => {
    const { e } = rig([{ id: "l", kind: "media", loss: 0.1 }]);
    const drops = fates(e, range(20_000)).map((f) => f.drop);
    expect(near(drops.filter(Boolean).length, 20_000, 0.1)).toBe(true);
    // Independent losses: runs average 1 / (1 - p).
    expect(mean(runs(drops))).toBeGreaterThan(1.05);
    expect(mean(runs(drops))).toBeLessThan(1.18);
  });

  it("burst_loss: the Gilbert-Elliott average, in runs of 1/p_bad_to_good", () => {
    const { e } = rig([{ id: "b", kind: "media", burst_loss: { p_good_to_bad: 0.02, p_bad_to_good: 0.2 } }]);
    const pi = 0.02 / 0.22;
    const drops = fates(e, range(60_000)).map((f) => f.drop);
    const rate = drops.filter(Boolean).length / drops.length;
    expect(Math.abs(rate - pi)).toBeLessThan(0.012);
    const r = mean(runs(drops));
    expect(r).toBeGreaterThan(4.4);
    expect(r).toBeLessThan(5.6);
  });

  it("burst_loss: loss in each state, and gaps in the numbering move the chain k steps at once", () => {
    const burst = { p_good_to_bad: 0.05, p_bad_to_good: 0.45, loss_in_bad: 1, loss_in_good: 0.02 };
    const { e } = rig([{ id: "b", kind: "media", burst_loss: burst }]);
    const pi = 0.05 / 0.5;
    const every = fates(e, range(60_000)).map((f) => f.drop);
    const rate = every.filter(Boolean).length / every.length;
    expect(Math.abs(rate - (pi + (1 - pi) * 0.02))).toBeLessThan(0.01);
    // Only even numbers arrive: P(bad two frames after bad) = pi + (1 - pi) * lambda^2, lambda = 1 - 0.5.
    const even = fates(
      e,
      range(60_000).map((i) => 2 * i),
      subject("even"),
    ).map((f) => f.drop);
    let afterDrop = 0;
    let both = 0;
    for (let i = 1; i < even.length; i++) {
      if (!even[i - 1]) continue;
      afterDrop++;
      if (even[i]) both++;
    }
    // Two-step transitions; a drop is certain in the bad state and 2% in the good one.
    const bb = pi + (1 - pi) * 0.25;
    const gb = pi * (1 - 0.25);
    const pDrop = pi + (1 - pi) * 0.02;
    const pBoth = pi * bb + pi * (1 - bb) * 0.02 + (1 - pi) * gb * 0.02 + (1 - pi) * (1 - gb) * 0.02 ** 2;
    // ~0.30; a chain that moved one step per frame whatever the gap would give ~0.49.
    expect(Math.abs(both / afterDrop - pBoth / pDrop)).toBeLessThan(0.04);
  });

  it("duplicate and reorder: at their rates, displacements 1..max_displacement", () => {
    const { e } = rig([
      { id: "d", kind: "media", duplicate: 0.05, reorder: { probability: 0.1, max_displacement: 4 } },
    ]);
    const fs = fates(e, range(20_000));
    expect(near(fs.filter((f) => f.duplicates === 1).length, 20_000, 0.05)).toBe(true);
    const held = fs.filter((f) => f.holdFrames > 0).map((f) => f.holdFrames);
    expect(near(held.length, 20_000, 0.1)).toBe(true);
    for (const k of [1, 2, 3, 4])
      expect(near(held.filter((h) => h === k).length, held.length, 0.25)).toBe(true);
    expect(fs.every((f) => !f.drop && f.delayMs === 0 && f.duplicates <= 1)).toBe(true);
  });

  it("jitter: a sample per frame; delay: one per stream, added to every frame", () => {
    const { e } = rig([
      {
        id: "j",
        kind: "media",
        jitter: { type: "uniform", min: 10, max: 30 },
        delay: { type: "uniform", min: 100, max: 200 },
      },
    ]);
    const byStream = ["a", "b", "c"].map((id) => fates(e, range(4000), subject(id)).map((f) => f.delayMs));
    const bases = byStream.map((ds) => Math.min(...ds) - 10);
    for (const [i, ds] of byStream.entries()) {
      const base = bases[i]!;
      expect(base).toBeGreaterThanOrEqual(99.9);
      expect(base).toBeLessThanOrEqual(200);
      expect(Math.max(...ds) - base).toBeLessThanOrEqual(30);
      expect(Math.max(...ds) - base).toBeGreaterThan(29.5);
      expect(Math.abs(mean(ds) - base - 20)).toBeLessThan(0.6);
    }
    expect(new Set(bases.map((b) => Math.round(b))).size).toBe(3);
  });
});

describe("media determinism", () => {
  const profile = [
    { id: "lossy", kind: "media", loss: 0.1, burst_loss: { p_good_to_bad: 0.02, p_bad_to_good: 0.3 } },
    { id: "messy", kind: "media", duplicate: 0.1, reorder: { probability: 0.1, max_displacement: 3 } },
    { id: "slow", kind: "media", jitter: { type: "lognormal", median: 20, sigma: 0.5 } },
  ];

  it("same seed, profile and frames: the same fates, however the streams interleave", () => {
    const one = rig(profile).e;
    const two = rig(profile).e;
    const ha = one.mediaStream(subject("a"), () => {});
    const hb = one.mediaStream(subject("b", "bob"), () => {});
    const a1 = range(3000).map((q) => ({ ...ha.frame(q) }));
    const b1 = range(3000).map((q) => ({ ...hb.frame(q) }));
    // The other simulator opens them in the other order and alternates frames.
    const hb2 = two.mediaStream(subject("b", "bob"), () => {});
    const ha2 = two.mediaStream(subject("a"), () => {});
    const a2: FrameFate[] = [];
    const b2: FrameFate[] = [];
    for (const q of range(3000)) {
      b2.push({ ...hb2.frame(q) });
      a2.push({ ...ha2.frame(q) });
    }
    expect(a2).toEqual(a1);
    expect(b2).toEqual(b1);
    expect(a1).not.toEqual(b1);
    const other = fates(rig(profile, 8).e, range(3000), subject("a"));
    expect(other.map((f) => f.drop)).not.toEqual(a1.map((f) => f.drop));
  });

  it("independent effects depend on the sequence number, not on arrival order or time", () => {
    const loss = [{ id: "l", kind: "media", loss: 0.2, duplicate: 0.1 }];
    const forward = fates(rig(loss).e, range(2000));
    const { e, clock } = rig(loss);
    const h = e.mediaStream(subject(), () => {});
    const backward: FrameFate[] = [];
    for (const q of range(2000).reverse()) {
      clock.advance(37);
      backward[q] = { ...h.frame(q) };
    }
    expect(backward).toEqual(forward);
  });

  it("keys a stream by app, publisher and stream id, counting its publications", () => {
    const { e } = rig([]);
    expect(e.mediaStream(subject("st"), () => {}).key).toBe(`1|singer|${MEDIA_ROUTE}|st#1`);
    expect(e.mediaStream(subject("st"), () => {}).key).toBe(`1|singer|${MEDIA_ROUTE}|st#2`);
    expect(e.mediaStream(subject("st", "other"), () => {}).key).toBe(`1|other|${MEDIA_ROUTE}|st#1`);
  });
});

describe("which streams a media fault picks", () => {
  const dropsAll = (f: FrameFate[]) => f.every((x) => x.drop);
  const dropsNone = (f: FrameFate[]) => f.every((x) => !x.drop);

  it("by stream id, app and fractions of publishers and rooms", () => {
    const { e } = rig([{ id: "ids", kind: "media", loss: 1, selector: { stream_ids: ["x"], app_id: 1 } }]);
    expect(dropsAll(fates(e, range(50), subject("x")))).toBe(true);
    expect(dropsNone(fates(e, range(50), subject("y")))).toBe(true);
    expect(dropsNone(fates(e, range(50), subject("x", "singer", 2)))).toBe(true);

    const users = rig([{ id: "u", kind: "media", loss: 1, selector: { user_fraction: 0.3 } }]).e;
    const rooms = rig([{ id: "r", kind: "media", loss: 1, selector: { room_fraction: 0.6 } }]).e;
    let byUser = 0;
    let byRoom = 0;
    for (let i = 0; i < 1000; i++) {
      const u = fates(users, range(5), subject(`s${i}`, `user${i}`));
      const r = fates(rooms, range(5), subject(`s${i}`, "singer", 1, `room${i}`));
      expect(dropsAll(u) || dropsNone(u)).toBe(true);
      byUser += Number(dropsAll(u));
      byRoom += Number(dropsAll(r));
    }
    expect(near(byUser, 1000, 0.3)).toBe(true);
    expect(near(byRoom, 1000, 0.6)).toBe(true);
    // The same users every time: a republished stream of a picked user is picked again.
    const again = fates(users, range(5), subject("s0-again", "user0"));
    expect(dropsAll(again)).toBe(dropsAll(fates(users, range(5), subject("s0", "user0"))));
  });

  it("probability and count limits pick whole streams", () => {
    const { e } = rig([{ id: "p", kind: "media", loss: 1, probability: 0.25 }]);
    let picked = 0;
    for (let i = 0; i < 1000; i++) {
      const f = fates(e, range(20), subject(`s${i}`));
      expect(dropsAll(f) || dropsNone(f)).toBe(true);
      picked += Number(dropsAll(f));
    }
    expect(near(picked, 1000, 0.25)).toBe(true);

    const first = rig([{ id: "f", kind: "media", loss: 1, first: 2 }]).e;
    const hit = range(5).map((i) => dropsAll(fates(first, range(10), subject(`s${i}`))));
    expect(hit).toEqual([true, true, false, false, false]);
    const max = rig([{ id: "m", kind: "media", loss: 1, every: 2, max: 2 }]).e;
    expect(range(7).map((i) => dropsAll(fates(max, range(10), subject(`s${i}`))))).toEqual([
      false,
      true,
      false,
      true,
      false,
      false,
      false,
    ]);
  });

  it("switches per frame with PATCH and the window, without picking again; a new profile picks again", () => {
    const { e, clock } = rig([{ id: "w", kind: "media", loss: 1, first: 1, from: 1000, until: 2000 }]);
    const picked = e.mediaStream(subject("a"), () => {});
    const passed = e.mediaStream(subject("b"), () => {});
    expect(picked.frame(0).drop).toBe(false); // before the window; the stream is picked all the same
    expect(passed.frame(0).drop).toBe(false);
    clock.advance(1000);
    expect(picked.frame(1).drop).toBe(true);
    expect(passed.frame(1).drop).toBe(false);
    e.setEnabled("w", false);
    expect(picked.frame(2).drop).toBe(false);
    e.setEnabled("w", true);
    expect(picked.frame(3).drop).toBe(true);
    expect(passed.frame(3).drop).toBe(false);
    clock.advance(1000);
    expect(picked.frame(4).drop).toBe(false);
    clock.set(clock.startedAt + 1500);
    e.replace({ faults: [{ id: "w", kind: "media", loss: 1, first: 1 }] });
    // A new profile has fresh counts: the next stream to meet it is the one picked.
    expect(passed.frame(5).drop).toBe(true);
    expect(picked.frame(5).drop).toBe(false);
  });
});

describe("releasing held frames", () => {
  it("tells the streams a fault picked when it is disabled, its window ends, it is replaced or reset", () => {
    const { e, clock } = rig([
      { id: "a", kind: "media", delay: { type: "fixed", ms: 50 }, until: 10_000 },
      { id: "b", kind: "media", delay: { type: "fixed", ms: 50 }, selector: { stream_ids: ["only-b"] } },
    ]);
    const calls = { s: 0, other: 0 };
    const s = e.mediaStream(subject("s"), () => calls.s++);
    const onlyB = e.mediaStream(subject("only-b"), () => calls.other++);
    s.frame(0);
    onlyB.frame(0);
    e.setEnabled("b", false);
    expect(calls).toEqual({ s: 0, other: 1 });
    e.setEnabled("a", false);
    expect(calls).toEqual({ s: 1, other: 2 });
    e.setEnabled("a", true);
    clock.advance(10_000);
    s.frame(1); // the window closed: any decision notices
    expect(calls).toEqual({ s: 2, other: 3 });
    e.replace({ faults: [{ id: "c", kind: "media", loss: 0.5 }] });
    expect(calls).toEqual({ s: 3, other: 4 });
    s.frame(2);
    e.reset();
    expect(calls).toEqual({ s: 4, other: 4 });
    s.close();
    e.replace({ faults: [{ id: "c", kind: "media", loss: 0.5 }] });
    expect(calls.s).toBe(4);
  });

  it("a stream no fault picked is never told", () => {
    const { e } = rig([{ id: "a", kind: "media", loss: 1, selector: { stream_ids: ["x"] } }]);
    let calls = 0;
    const h = e.mediaStream(subject("y"), () => calls++);
    h.frame(0);
    e.reset();
    expect(calls).toBe(0);
  });
});

describe("media observability", () => {
  it("one event per stream, fault and second, whose counts add up to the frames affected", async () => {
    const { e, clock, registry } = rig([
      { id: "loss", kind: "media", loss: 0.3 },
      { id: "dup", kind: "media", duplicate: 0.2, jitter: { type: "fixed", ms: 5 } },
    ]);
    const h = e.mediaStream(subject(), () => {});
    let dropped = 0;
    let duplicated = 0;
    for (const q of range(300)) {
      const f = h.frame(q);
      if (f.drop) dropped++;
      if (f.duplicates) duplicated++;
      clock.advance(10); // 100 frames a second for 3 s
    }
    // The last second is still open until the stream ends (or the log is read a second later).
    expect(e.events().filter((x) => x.fault_id === "loss")).toHaveLength(2);
    h.close();
    const events = e.events();
    const loss = events.filter((x) => x.fault_id === "loss");
    const dup = events.filter((x) => x.fault_id === "dup");
    expect(loss).toHaveLength(3);
    expect(dup).toHaveLength(3);
    for (const ev of events) {
      expect(ev).toMatchObject({
        kind: "media",
        route: MEDIA_ROUTE,
        request_key: `1|singer|${MEDIA_ROUTE}|st#1`,
      });
    }
    expect(loss.reduce((n, x) => n + x.effect.dropped!, 0)).toBe(dropped);
    expect(loss.map((x) => x.effect.frames)).toEqual(loss.map((x) => x.effect.dropped));
    expect(loss.map((x) => x.effect.seq_first)).toEqual([0, expect.any(Number), expect.any(Number)]);
    expect(loss[2]!.effect.seq_last).toBeGreaterThan(290);
    // "dup" sees only the frames "loss" let through, delaying each by 5 ms.
    expect(dup.reduce((n, x) => n + x.effect.frames!, 0)).toBe(300 - dropped);
    expect(dup.reduce((n, x) => n + x.effect.duplicated!, 0)).toBe(duplicated);
    expect(dup.every((x) => x.effect.delay_ms_max === 5 && x.effect.delay_ms_mean === 5)).toBe(true);
    expect(await injected(registry, "loss")).toBe(dropped);
    expect(await injected(registry, "dup")).toBe(300 - dropped);
  });

  it("counts frames at scrape time while the stream is open, and writes a quiet window once a second passed", async () => {
    const { e, clock, registry } = rig([{ id: "l", kind: "media", loss: 1 }]);
    const h = e.mediaStream(subject(), () => {});
    for (const q of range(10)) h.frame(q);
    expect(await injected(registry, "l")).toBe(10);
    expect(e.events()).toEqual([]);
    clock.advance(1000);
    expect(e.events().map((x) => x.effect)).toEqual([
      {
        frames: 10,
        dropped: 10,
        duplicated: 0,
        delayed: 0,
        reordered: 0,
        delay_ms_mean: 0,
        delay_ms_max: 0,
        seq_first: 0,
        seq_last: 9,
      },
    ]);
    h.frame(10);
    e.reset();
    expect(e.events()).toEqual([]);
    expect(await injected(registry, "l")).toBe(11);
  });
});
