import { describe, expect, it } from "vitest";
import type { LedgerRowLine } from "../../reports/format.ts";
import { billingCheck } from "./billing-check.ts";

const row = (id: number, over: Partial<LedgerRowLine> = {}): LedgerRowLine => ({
  id,
  time: 1_700_000_000_000 + id,
  billing_mode: 0,
  vendor_id: 0,
  user_id: `k1-v${id}`,
  room_id: "k1-room0",
  master_id: null,
  ...over,
});
const rows = (n: number, over: Partial<LedgerRowLine> = {}) =>
  Array.from({ length: n }, (_, i) => row(i + 1, over));
const count = { billable: 3, unconfirmed: 0, billingMode: 0, vendorId: 0 };

describe("billingCheck", () => {
  it("passes when the clients' count equals the ledger's rows", () => {
    const c = billingCheck(count, rows(3), { userPrefix: "k1" });
    expect(c).toMatchObject({ name: "billing", ok: true });
    expect(c.data).toMatchObject({ client_billable: 3, ledger_rows: 3, foreign_rows: 0 });
  });

  it("fails on one row more in the ledger than the clients counted", () => {
    const c = billingCheck(count, rows(4), { userPrefix: "k1" });
    expect(c.ok).toBe(false);
    expect(c.detail).toContain("the ledger should have 3 rows; it has 4");
  });

  it("fails on one row fewer in the ledger than the clients counted", () => {
    const c = billingCheck(count, rows(2));
    expect(c.ok).toBe(false);
    expect(c.detail).toContain("it has 2");
  });

  it("allows an unconfirmed request to have billed or not, and nothing beyond", () => {
    const one = { ...count, unconfirmed: 1 };
    expect(billingCheck(one, rows(3)).ok).toBe(true);
    expect(billingCheck(one, rows(4)).ok).toBe(true);
    expect(billingCheck(one, rows(5)).ok).toBe(false);
    expect(billingCheck(one, rows(2)).ok).toBe(false);
  });

  it("counts only the run's users on a shared simulator and reports the others", () => {
    const c = billingCheck(count, [...rows(3), row(9, { user_id: "someone-else" })], { userPrefix: "k1" });
    expect(c.ok).toBe(true);
    expect(c.data).toMatchObject({ ledger_rows: 3, foreign_rows: 1 });
  });

  it("fails on rows in a billing mode or vendor the clients did not request", () => {
    const mixed = [...rows(2), row(3, { billing_mode: 1 })];
    const c = billingCheck(count, mixed);
    expect(c.ok).toBe(false);
    expect(c.detail).toContain(
      "billing mode 1 (User): 1 ledger rows, but the clients requested only in mode 0",
    );
    const vendor = billingCheck(count, [...rows(2), row(3, { vendor_id: 1 })]);
    expect(vendor.ok).toBe(false);
    expect(vendor.detail).toContain("another vendor");
  });

  it("requires the payer on Master and Room rows", () => {
    const master = { ...count, billingMode: 3 };
    expect(billingCheck(master, rows(3, { billing_mode: 3, master_id: "k1-v0" })).ok).toBe(true);
    const c = billingCheck(master, [
      ...rows(2, { billing_mode: 3, master_id: "k1-v0" }),
      row(3, { billing_mode: 3 }),
    ]);
    expect(c.ok).toBe(false);
    expect(c.detail).toContain("1 ledger rows in mode 3 (Master) have no master_id");
    const room = { ...count, billingMode: 2 };
    expect(billingCheck(room, rows(3, { billing_mode: 2, room_id: null })).detail).toContain(
      "have no room_id",
    );
  });
});
