import { describe, expect, it } from "vitest";
import {
  isRevocation,
  mayHaveBilled,
  provablyFailed,
  shouldFallBackToRequest,
  shouldRequestAgain,
  transientRetryPolicy,
} from "./recovery.ts";

const envelope = (code: number) => JSON.stringify({ code, message: "m", request_id: "r", data: null });

describe("recovery rules", () => {
  it("revoked song: 1017030 and 1017031 skip, other codes do not", () => {
    expect([1017030, 1017031].map(isRevocation)).toEqual([true, true]);
    expect([0, 1017019, 1017097, 1017050, 1017018].map(isRevocation)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it("expired resource: request again once, then report", () => {
    expect(shouldRequestAgain(1017019, false)).toBe(true);
    expect(shouldRequestAgain(1017019, true)).toBe(false);
    expect(shouldRequestAgain(1017098, false)).toBe(false);
    expect(shouldRequestAgain(1017030, false)).toBe(false);
  });

  it("share not available to this user: fall back to a request on 1017050 and 1017051 only", () => {
    expect([1017050, 1017051].map(shouldFallBackToRequest)).toEqual([true, true]);
    expect([1017030, 1017054, 1017097, 1017098].map(shouldFallBackToRequest)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it("a request failed provably only when refused locally or answered with a vendor error", () => {
    // Answered with an error envelope: nothing was issued, nothing billed.
    expect(provablyFailed({ errorCode: 1017097, resource: envelope(1017097) })).toBe(true);
    expect(provablyFailed({ errorCode: 1017030, resource: envelope(1017030) })).toBe(true);
    // Refused by the SDK before sending.
    expect(provablyFailed({ errorCode: 1017002, resource: "" })).toBe(true);
    expect(provablyFailed({ errorCode: 1017096, resource: "" })).toBe(true);
    // No answer (reset, timeout), or an answer that was not the vendor's: it may have billed.
    expect(provablyFailed({ errorCode: 1017098, resource: "" })).toBe(false);
    expect(provablyFailed({ errorCode: 1017010, resource: "" })).toBe(false);
    // A success envelope whose data the SDK could not use did bill.
    expect(provablyFailed({ errorCode: 1017010, resource: envelope(0) })).toBe(false);
    expect(provablyFailed({ errorCode: 0, resource: envelope(0) })).toBe(false);
    expect(mayHaveBilled({ errorCode: 0, resource: envelope(0) })).toBe(true);
    expect(mayHaveBilled({ errorCode: 1017098, resource: "" })).toBe(true);
    expect(mayHaveBilled({ errorCode: 1017097, resource: envelope(1017097) })).toBe(false);
  });

  it("transient errors: a bounded policy with exponential ceilings", () => {
    const p = transientRetryPolicy();
    expect(p).toMatchObject({ maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 2_000 });
    expect(transientRetryPolicy({ maxAttempts: 2 }).maxAttempts).toBe(2);
  });
});
