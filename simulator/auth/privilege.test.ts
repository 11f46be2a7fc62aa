import { describe, expect, it } from "vitest";
import { privilegePayload } from "../../protocol/token04.ts";
import { roomPrivilegeDenial } from "./privilege.ts";

describe("roomPrivilegeDenial", () => {
  it("a token without payload grants everything", () => {
    expect(roomPrivilegeDenial(undefined, "r1", "login")).toBeUndefined();
    expect(roomPrivilegeDenial("", "r1", "publish")).toBeUndefined();
  });

  it("binds the token to its room", () => {
    const p = privilegePayload("r1", true, true);
    expect(roomPrivilegeDenial(p, "r1", "login")).toBeUndefined();
    expect(roomPrivilegeDenial(p, "r2", "login")).toMatch(/for room "r1", not "r2"/);
    expect(roomPrivilegeDenial(p, "r2", "publish")).toMatch(/for room "r1"/);
  });

  it("enforces login (key 1) and publish (key 2) separately", () => {
    const noPublish = privilegePayload("r1", true, false);
    expect(roomPrivilegeDenial(noPublish, "r1", "login")).toBeUndefined();
    expect(roomPrivilegeDenial(noPublish, "r1", "publish")).toMatch(/publish privilege/);
    const noLogin = privilegePayload("r1", false, true);
    expect(roomPrivilegeDenial(noLogin, "r1", "login")).toMatch(/login privilege/);
  });

  it("payloads that are not privilege objects restrict nothing", () => {
    for (const p of ["{}", "[]", "42", '"x"', "null", '{"room_id":""}', '{"privilege":{"1":1}}', "{bad"]) {
      expect(roomPrivilegeDenial(p, "r1", "login")).toBeUndefined();
    }
  });
});
