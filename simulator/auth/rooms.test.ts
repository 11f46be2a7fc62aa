import { describe, expect, it } from "vitest";
import { VendorError } from "../errors.ts";
import { DEFAULT_LIMITS } from "../limits.ts";
import { createRoomRegistry } from "./rooms.ts";

const codeOf = (f: () => void): number | undefined => {
  try {
    f();
  } catch (e) {
    if (e instanceof VendorError) return e.code;
    throw e;
  }
  return undefined;
};

describe("room registry caps", () => {
  it("refuses a user's room past roomsPerUser with 1002001, changing nothing; a leave frees the slot", () => {
    const rooms = createRoomRegistry({ ...DEFAULT_LIMITS, roomsPerUser: 2 });
    rooms.join(1, "a", "u");
    rooms.join(1, "b", "u");
    rooms.join(1, "b", "u"); // idempotent: still 2 rooms
    expect(codeOf(() => rooms.join(1, "c", "u"))).toBe(1002001);
    expect(rooms.members(1, "c")).toEqual([]);
    // Other users, and the same user id in another app, have their own allowance.
    rooms.join(1, "c", "v");
    rooms.join(2, "c", "u");
    rooms.leave(1, "a", "u");
    rooms.join(1, "c", "u");
    expect(rooms.members(1, "c").sort()).toEqual(["u", "v"]);
  });

  it("refuses a new room past roomsPerApp with 1002035; existing rooms still take members", () => {
    const rooms = createRoomRegistry({ ...DEFAULT_LIMITS, roomsPerApp: 2 });
    rooms.join(1, "a", "u1");
    rooms.join(1, "b", "u2");
    expect(codeOf(() => rooms.join(1, "c", "u3"))).toBe(1002035);
    expect(rooms.isMember(1, "c", "u3")).toBe(false);
    rooms.join(1, "a", "u3");
    rooms.join(2, "c", "u3"); // another app's rooms are its own
    // An emptied room is gone and no longer counts.
    rooms.leave(1, "b", "u2");
    rooms.join(1, "c", "u4");
    expect(rooms.members(1, "c")).toEqual(["u4"]);
  });

  it("refuses a room login past roomMembersPerApp with 1002035 (members of one room count too)", () => {
    const rooms = createRoomRegistry({ ...DEFAULT_LIMITS, roomMembersPerApp: 3 });
    for (const u of ["u1", "u2", "u3"]) rooms.join(1, "big", u);
    expect(codeOf(() => rooms.join(1, "big", "u4"))).toBe(1002035);
    expect(codeOf(() => rooms.join(1, "other", "u4"))).toBe(1002035);
    rooms.join(1, "big", "u1"); // already a member: not a new login
    rooms.leave(1, "big", "u1");
    rooms.join(1, "big", "u4");
    expect(rooms.members(1, "big").sort()).toEqual(["u2", "u3", "u4"]);
    rooms.reset();
    for (const u of ["u1", "u2", "u3"]) rooms.join(1, "again", u);
  });
});
