import type { CheckResult, LedgerRowLine } from "../../reports/format.ts";

// "Nothing lost, billing exact": every requestResource the clients saw succeed is one ledger row, and every
// ledger row of the run is one the clients know of. The clients count the calls they saw answered 0
// (billable_requests) and, apart, the calls they sent that never got an answer (unconfirmed_requests: the vendor
// may have billed them or not, so the client cannot know). Hence the rule, per billing mode:
//
//   billable <= ledger rows <= billable + unconfirmed      (exact when nothing is unconfirmed)
//
// The clients of one scenario all request with the scenario's billing mode and vendor, so their whole count
// belongs to that mode: a row in another mode or vendor is a row nobody asked for. What each mode bills to must
// be on the row (Room: room_id; Master: master_id), else the vendor cannot charge the right account.
// The ledger is read for the run's app and since the run began; on a shared simulator other clients of the same
// app may add rows meanwhile, so only rows of the run's users (user ids under the run's prefix) are compared
// and the others are reported as foreign.

export interface ClientBillingCount {
  /** requestResource calls answered 0, as the clients counted them. */
  billable: number;
  /** requestResource calls sent without an answer (timeout, dropped connection). */
  unconfirmed: number;
  /** The billing mode and vendor every client of the scenario requests with. */
  billingMode: number;
  vendorId: number;
}

export interface BillingCheckOptions {
  /** The run's user ids start with `${userPrefix}-`; without it every row is the run's. */
  userPrefix?: string;
}

const MODE_NAMES: Record<number, string> = { 0: "Count", 1: "User", 2: "Room", 3: "Master" };
const modeName = (m: number) => `${m} (${MODE_NAMES[m] ?? "unknown"})`;

export function billingCheck(
  count: ClientBillingCount,
  ledgerRows: readonly LedgerRowLine[],
  opts: BillingCheckOptions = {},
): CheckResult {
  const prefix = opts.userPrefix === undefined ? null : `${opts.userPrefix}-`;
  const own = prefix === null ? ledgerRows : ledgerRows.filter((r) => String(r.user_id).startsWith(prefix));
  const foreign = ledgerRows.length - own.length;
  const byMode: Record<string, number> = {};
  for (const r of own) byMode[String(r.billing_mode)] = (byMode[String(r.billing_mode)] ?? 0) + 1;

  const problems: string[] = [];
  const inMode = byMode[String(count.billingMode)] ?? 0;
  const { billable, unconfirmed } = count;
  if (inMode < billable || inMode > billable + unconfirmed) {
    const expected = unconfirmed === 0 ? `${billable}` : `${billable} to ${billable + unconfirmed}`;
    problems.push(
      `billing mode ${modeName(count.billingMode)}: the clients counted ${billable} billable requests` +
        `${unconfirmed > 0 ? ` and ${unconfirmed} unconfirmed` : ""}, so the ledger should have ${expected} rows; it has ${inMode}`,
    );
  }
  for (const [mode, n] of Object.entries(byMode)) {
    if (Number(mode) === count.billingMode) continue;
    problems.push(
      `billing mode ${modeName(Number(mode))}: ${n} ledger rows, but the clients requested only in mode ${modeName(count.billingMode)}`,
    );
  }
  const otherVendor = own.filter((r) => r.vendor_id !== count.vendorId).length;
  if (otherVendor > 0)
    problems.push(`${otherVendor} ledger rows for another vendor than the clients' ${count.vendorId}`);
  const payer = count.billingMode === 3 ? "master_id" : count.billingMode === 2 ? "room_id" : null;
  if (payer !== null) {
    const missing = own.filter(
      (r) => r.billing_mode === count.billingMode && (typeof r[payer] !== "string" || r[payer] === ""),
    ).length;
    if (missing > 0)
      problems.push(`${missing} ledger rows in mode ${modeName(count.billingMode)} have no ${payer}`);
  }

  const ok = problems.length === 0;
  const detail = ok
    ? `the clients counted ${billable} billable requests${unconfirmed > 0 ? ` (+${unconfirmed} unconfirmed)` : ""} in billing mode ${modeName(count.billingMode)}; the ledger has ${own.length} rows for them`
    : problems.join("; ");
  return {
    name: "billing",
    ok,
    detail,
    data: {
      billing_mode: count.billingMode,
      vendor_id: count.vendorId,
      client_billable: billable,
      client_unconfirmed: unconfirmed,
      ledger_rows: own.length,
      ledger_by_mode: byMode,
      foreign_rows: foreign,
    },
  };
}

// ---- ktv.mix: clients request in several billing modes and vendors in one run ----
// The same rule holds per billing mode and per vendor: the clients count each billable (and unconfirmed) call
// under the mode and the vendor it was made with (`billable_by_mode{billing_mode:M}`, `billable_by_vendor{vendor_id:V}`), and
// each is compared with the ledger's rows in that mode or vendor. A row in a mode or vendor nobody requested
// in fails as before (its count is 0), and so does a Room or Master row without what it bills to.

export interface SplitCount {
  billable: number;
  unconfirmed: number;
}

export interface MixedBillingCount {
  byMode: Record<string, SplitCount>;
  byVendor: Record<string, SplitCount>;
}

/** The tagged counts of a run (every mode 0..3 and vendor 0, 1, 2, 4 read; zeros included). */
export function mixedCountOf(counters: { counter(name: string): number }): MixedBillingCount {
  const split = (by: "mode" | "vendor", tag: string, values: number[]) =>
    Object.fromEntries(
      values.map((v) => [
        String(v),
        {
          billable: counters.counter(`billable_by_${by}{${tag}:${v}}`),
          unconfirmed: counters.counter(`unconfirmed_by_${by}{${tag}:${v}}`),
        },
      ]),
    );
  return {
    byMode: split("mode", "billing_mode", [0, 1, 2, 3]),
    byVendor: split("vendor", "vendor_id", [0, 1, 2, 4]),
  };
}

export function mixedBillingCheck(
  count: MixedBillingCount,
  ledgerRows: readonly LedgerRowLine[],
  opts: BillingCheckOptions = {},
): CheckResult {
  const prefix = opts.userPrefix === undefined ? null : `${opts.userPrefix}-`;
  const own = prefix === null ? ledgerRows : ledgerRows.filter((r) => String(r.user_id).startsWith(prefix));
  const tally = (key: "billing_mode" | "vendor_id") => {
    const t: Record<string, number> = {};
    for (const r of own) t[String(r[key])] = (t[String(r[key])] ?? 0) + 1;
    return t;
  };
  const rowsByMode = tally("billing_mode");
  const rowsByVendor = tally("vendor_id");
  const problems: string[] = [];
  const compare = (
    what: (k: string) => string,
    counts: Record<string, SplitCount>,
    rows: Record<string, number>,
  ) => {
    for (const k of new Set([...Object.keys(counts), ...Object.keys(rows)])) {
      const { billable, unconfirmed } = counts[k] ?? { billable: 0, unconfirmed: 0 };
      const n = rows[k] ?? 0;
      if (n < billable || n > billable + unconfirmed) {
        const expected = unconfirmed === 0 ? `${billable}` : `${billable} to ${billable + unconfirmed}`;
        problems.push(
          `${what(k)}: the clients counted ${billable} billable requests${unconfirmed > 0 ? ` and ${unconfirmed} unconfirmed` : ""}, so the ledger should have ${expected} rows; it has ${n}`,
        );
      }
    }
  };
  compare((k) => `billing mode ${modeName(Number(k))}`, count.byMode, rowsByMode);
  compare((k) => `vendor ${k}`, count.byVendor, rowsByVendor);
  for (const [mode, payer] of [
    [2, "room_id"],
    [3, "master_id"],
  ] as const) {
    const missing = own.filter(
      (r) => r.billing_mode === mode && (typeof r[payer] !== "string" || r[payer] === ""),
    ).length;
    if (missing > 0) problems.push(`${missing} ledger rows in mode ${modeName(mode)} have no ${payer}`);
  }
  const billable = Object.values(count.byMode).reduce((a, c) => a + c.billable, 0);
  const unconfirmed = Object.values(count.byMode).reduce((a, c) => a + c.unconfirmed, 0);
  const ok = problems.length === 0;
  const modes = Object.entries(rowsByMode)
    .map(([m, n]) => `${modeName(Number(m))}: ${n}`)
    .join(", ");
  return {
    name: "billing",
    ok,
    detail: ok
      ? `the clients counted ${billable} billable requests${unconfirmed > 0 ? ` (+${unconfirmed} unconfirmed)` : ""} over billing modes and vendors; the ledger agrees per mode (${modes || "none"}) and per vendor`
      : problems.join("; "),
    data: {
      mixed: true,
      client_billable: billable,
      client_unconfirmed: unconfirmed,
      ledger_rows: own.length,
      ledger_by_mode: rowsByMode,
      ledger_by_vendor: rowsByVendor,
      client_by_mode: count.byMode,
      client_by_vendor: count.byVendor,
      foreign_rows: ledgerRows.length - own.length,
    },
  };
}

/** The runner's call: the run's merged counters and the ledger it read (or why it could not). */
export function runBillingCheck(
  counters: { counter(name: string): number },
  resource: { billingMode: number; vendorId: number },
  ledger: { rows: readonly LedgerRowLine[] } | Error,
  userPrefix: string,
  opts: { mixed?: boolean } = {},
): CheckResult {
  if (opts.mixed && !(ledger instanceof Error)) {
    return mixedBillingCheck(mixedCountOf(counters), ledger.rows, { userPrefix });
  }
  const count: ClientBillingCount = {
    billable: counters.counter("billable_requests"),
    unconfirmed: counters.counter("unconfirmed_requests"),
    billingMode: resource.billingMode,
    vendorId: resource.vendorId,
  };
  if (ledger instanceof Error) {
    // Billing that cannot be compared is not exact: the run does not get to pass on it.
    return {
      name: "billing",
      ok: false,
      detail: `could not read the ledger: ${ledger.message}`,
      data: { ...count },
    };
  }
  return billingCheck(count, ledger.rows, { userPrefix });
}
