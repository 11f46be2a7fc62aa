import { describe, expect, it } from "vitest";
import { serverApiSignature } from "./server-api.ts";

describe("serverApiSignature", () => {
  it("matches the vendor's published example (accessing-server-apis, Go sample)", () => {
    // appId 12345, nonce 4fd24687296dd9f3, secret 9193cc662a4c0ec135ec71fb57194b38, 2021-03-08 15:02:23.
    expect(
      serverApiSignature(12345, "4fd24687296dd9f3", "9193cc662a4c0ec135ec71fb57194b38", 1615186943),
    ).toBe("43e5cfcca828314675f91b001390566a");
  });
  it("changes with every input", () => {
    const base = serverApiSignature(1, "n", "s".repeat(32), 10);
    expect(serverApiSignature(2, "n", "s".repeat(32), 10)).not.toBe(base);
    expect(serverApiSignature(1, "m", "s".repeat(32), 10)).not.toBe(base);
    expect(serverApiSignature(1, "n", "t".repeat(32), 10)).not.toBe(base);
    expect(serverApiSignature(1, "n", "s".repeat(32), 11)).not.toBe(base);
    expect(base).toMatch(/^[0-9a-f]{32}$/);
  });
});
