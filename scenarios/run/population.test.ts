import { describe, expect, it } from "vitest";
import { unitDraw } from "./hash.ts";
import { prefersShare, SongPicker, seatOfUser, zipfSampler } from "./population.ts";
import { shareOf } from "./schedule.ts";

describe("seats", () => {
  const pop = { rooms: 3, usersPerRoom: 4, singersPerRoom: 1 };

  it("fills rooms in order: seat 0 sings, the others listen", () => {
    expect([0, 1, 3, 4, 11].map((u) => seatOfUser(u, pop))).toEqual([
      { room: 0, slot: 0, role: "singer" },
      { room: 0, slot: 1, role: "listener" },
      { room: 0, slot: 3, role: "listener" },
      { room: 1, slot: 0, role: "singer" },
      { room: 2, slot: 3, role: "listener" },
    ]);
  });

  it("reuses rooms round-robin beyond rooms × usersPerRoom", () => {
    expect(seatOfUser(12, pop)).toEqual({ room: 0, slot: 0, role: "singer" });
    expect(seatOfUser(17, { ...pop, singersPerRoom: 2 })).toEqual({ room: 1, slot: 1, role: "singer" });
  });

  it("the room's first singer never tries the share; others do as often as shareRatio says", () => {
    const singer = seatOfUser(0, pop);
    expect(prefersShare(1, 1, singer, 0, 0)).toBe(false);
    let yes = 0;
    for (let round = 0; round < 2000; round++) if (prefersShare(1, 0.3, seatOfUser(1, pop), 1, round)) yes++;
    expect(yes / 2000).toBeGreaterThan(0.25);
    expect(yes / 2000).toBeLessThan(0.35);
  });
});

describe("song choice", () => {
  it("Zipf: rank 1 about twice as likely as rank 2 at s=1; uniform at s=0", () => {
    const draw = zipfSampler(10, 1);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 20_000; i++) counts[draw(unitDraw(7, i))]++;
    expect(counts[0] / counts[1]).toBeGreaterThan(1.8);
    expect(counts[0] / counts[1]).toBeLessThan(2.2);
    expect(counts[0] / counts[9]).toBeGreaterThan(8);
    const flat = zipfSampler(4, 0);
    const c = new Array(4).fill(0);
    for (let i = 0; i < 8000; i++) c[flat(unitDraw(3, i))]++;
    for (const n of c) expect(Math.abs(n - 2000)).toBeLessThan(200);
  });

  it("every member of a room draws the same song for a round, a function of the seed", () => {
    const pool = Array.from({ length: 30 }, (_, i) => ({ song_id: `s${i}`, song_name: `Song ${i}` }));
    const a = new SongPicker(pool, 42, 1, 0.5);
    const b = new SongPicker(pool, 42, 1, 0.5);
    for (let room = 0; room < 5; room++)
      for (let round = 0; round < 5; round++) expect(a.pick(room, round)).toEqual(b.pick(room, round));
    const other = new SongPicker(pool, 43, 1, 0.5);
    const picks = (p: SongPicker) =>
      Array.from({ length: 20 }, (_, r) => JSON.stringify(p.pick(0, r))).join();
    expect(picks(other)).not.toBe(picks(a));
  });

  it("searchMix: the share of choices made by searching the song's name", () => {
    const pool = [{ song_id: "1", song_name: "Only" }];
    const p = new SongPicker(pool, 1, 1, 0.25);
    let searches = 0;
    for (let round = 0; round < 4000; round++) if ("query" in p.pick(0, round)) searches++;
    expect(searches / 4000).toBeGreaterThan(0.22);
    expect(searches / 4000).toBeLessThan(0.28);
    expect(new SongPicker(pool, 1, 1, 0).pick(0, 0)).toEqual({ songID: "1" });
  });
});

describe("worker shares (execution segments)", () => {
  it("splits n items over W workers, the first ones taking the remainder", () => {
    expect([0, 1, 2].map((w) => shareOf(10, 3, w))).toEqual([4, 3, 3]);
    expect([0, 1].map((w) => shareOf(1, 2, w))).toEqual([1, 0]);
    for (let n = 0; n < 20; n++)
      expect(shareOf(n, 4, 0) + shareOf(n, 4, 1) + shareOf(n, 4, 2) + shareOf(n, 4, 3)).toBe(n);
  });
});
