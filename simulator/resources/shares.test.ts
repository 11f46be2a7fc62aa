import { describe, expect, it } from "vitest";
import { audioLayout } from "../cdn/format.ts";
import { createShareRegistry } from "./shares.ts";
import type { ResourceRecord } from "./types.ts";

function rec(user: string, room: string | null = "r1", song = "100"): ResourceRecord {
  return {
    resource_id: `z_${song}_1_${user}`,
    app_id: 1,
    user_id: user,
    session_id: `s_${user}`,
    song_id: song,
    vendor_id: 0,
    resource_type: 1,
    quality: 0,
    billing_mode: 0,
    room_id: room,
    created_at: 0,
    expires_at: 1e12,
    forced_expired: false,
    span: { begin: 0, end: 1000 },
    layout: audioLayout(0, 1000, 1),
    via_share: false,
    krc_token: null,
  };
}

const key = { app_id: 1, room_id: "r1", song_id: "100", resource_type: 1 as const, vendor_id: 0 as const };

describe("share registry", () => {
  it("lists other members' live shares newest first, never the caller's own", () => {
    const s = createShareRegistry(1000);
    s.offer(rec("a"), "t_a", 0);
    s.offer(rec("b"), "t_b", 10);
    expect(s.live(key, "c", 20).map((x) => x.share_token)).toEqual(["t_b", "t_a"]);
    expect(s.live(key, "a", 20).map((x) => x.share_token)).toEqual(["t_b"]);
    expect(s.live({ ...key, vendor_id: 1 }, "c", 20)).toEqual([]);
    expect(s.live({ ...key, room_id: "r2" }, "c", 20)).toEqual([]);
  });

  it("expires shares after the TTL and sweeps dead keys", () => {
    const s = createShareRegistry(1000);
    s.offer(rec("a", "r1", "100"), "t1", 0);
    s.offer(rec("a", "r1", "200"), "t2", 500);
    expect(s.live(key, "c", 999)).toHaveLength(1);
    expect(s.live(key, "c", 1000)).toHaveLength(0);
    expect(s.size).toBe(2);
    s.offer(rec("a", "r1", "300"), "t3", 1600);
    expect(s.size).toBe(1);
  });

  it("a requester's newer share replaces their older one with a fresh claim list", () => {
    const s = createShareRegistry(1000);
    s.offer(rec("a"), "t1", 0).claimed.add("c");
    const second = s.offer(rec("a"), "t2", 5);
    expect(s.live(key, "c", 6)).toEqual([second]);
    expect(second.claimed.size).toBe(0);
  });

  it("refuses a share without a room", () => {
    expect(() => createShareRegistry(1000).offer(rec("a", null), "t", 0)).toThrow(/room_id/);
  });
});
