import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { VendorError } from "../errors.ts";
import { createKrcTokens, issueKrcToken, verifyKrcToken } from "./krc-token.ts";

const NOW = 1_700_000_000_000;

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof VendorError) return e.code;
    throw e;
  }
  return undefined;
}

describe("krc tokens", () => {
  it("round-trips song, vendor, app and user until the expiry instant", () => {
    const t = createKrcTokens(60_000);
    const { krc_token, krc_token_ttl } = t.issue("12345", 2, 1000000001, "alice", NOW);
    expect(krc_token_ttl).toBe(60_000);
    expect(t.verify(krc_token, NOW + 59_999)).toEqual({
      song_id: "12345",
      vendor_id: 2,
      app_id: 1000000001,
      user_id: "alice",
      expires_at: NOW + 60_000,
    });
    expect(codeOf(() => t.verify(krc_token, NOW + 60_000))).toBe(1017047);
  });

  it("the unbound verifier accepts what a store's default-keyed issuer made", () => {
    const t = createKrcTokens(1000);
    const { krc_token } = t.issue("7", 0, 1, "u", NOW);
    expect(verifyKrcToken(krc_token, NOW).song_id).toBe("7");
  });

  it("answers 1017008 for an empty token and 1017046 for garbage", () => {
    expect(codeOf(() => verifyKrcToken("", NOW))).toBe(1017008);
    expect(codeOf(() => verifyKrcToken(undefined, NOW))).toBe(1017008);
    for (const bad of ["x", "krc1.", "krc1..", "krc1.abc.def", 42, {}, "krc1.".padEnd(5000, "a")]) {
      expect(codeOf(() => verifyKrcToken(bad, NOW))).toBe(1017046);
    }
  });

  it("refuses forged tokens: changed payload, changed mac, another key, a well-signed bad payload", () => {
    const key = randomBytes(32);
    const good = issueKrcToken(
      { song_id: "1", vendor_id: 0, app_id: 1, user_id: "u", expires_at: NOW + 1000 },
      key,
    );
    expect(verifyKrcToken(good, NOW, key).song_id).toBe("1");
    const [prefix, payload, sig] = good.split(".");
    const otherPayload = Buffer.from(JSON.stringify(["2", 0, 1, "u", NOW + 1000])).toString("base64url");
    expect(codeOf(() => verifyKrcToken(`${prefix}.${otherPayload}.${sig}`, NOW, key))).toBe(1017046);
    const flipped = `${sig!.slice(0, -2)}${sig!.endsWith("AA") ? "BB" : "AA"}`;
    expect(codeOf(() => verifyKrcToken(`${prefix}.${payload}.${flipped}`, NOW, key))).toBe(1017046);
    expect(codeOf(() => verifyKrcToken(good, NOW, randomBytes(32)))).toBe(1017046);
    // An expired forgery is still "illegal", not "expired": the signature is judged first.
    expect(codeOf(() => verifyKrcToken(`${prefix}.${otherPayload}.${sig}`, NOW + 10_000, key))).toBe(1017046);
  });
});
