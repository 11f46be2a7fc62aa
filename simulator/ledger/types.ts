import type { BillingMode, ResourceType, VendorId } from "../../protocol/enums.ts";

/** One billable event: exactly one successful requestResource. */
export interface LedgerRow {
  id: number;
  /** ms since epoch */
  time: number;
  app_id: number;
  user_id: string;
  room_id: string | null;
  song_id: string;
  resource_type: ResourceType;
  billing_mode: BillingMode;
  vendor_id: VendorId;
  quality: number;
  scene_id: number;
  master_id: string | null;
  resource_id: string;
  request_id: string;
}

export type NewLedgerRow = Omit<LedgerRow, "id">;

export interface LedgerTotals {
  billable: number;
  by_mode: Record<string, number>;
  by_vendor: Record<string, number>;
  by_app: Record<string, number>;
}

export interface LedgerQuery {
  /** Only this app's rows. */
  app_id?: number;
  /** Rows with id > since_id (exclusive cursor); ids only grow, even across clear(). */
  since_id?: number;
  /** Page size: default 100, at most MAX_PAGE (100,000) of sqlite-ledger.ts. */
  limit?: number;
}

export interface Ledger {
  /** Commits the row durably (synchronous WAL commit) and returns it with its id. Throws on failure. */
  append(row: NewLedgerRow): LedgerRow;
  /** In id order. */
  rows(q?: LedgerQuery): LedgerRow[];
  /** Counts keyed by the enum ints as strings ("0", "4"); by_app keyed by app id. */
  totals(q?: { app_id?: number }): LedgerTotals;
  count(): number;
  /** Deletes every row (admin reset). */
  clear(): void;
  close(): void;
}
