import type { VendorId } from "../../protocol/enums.ts";
import type { Session } from "../auth/sessions.ts";
import type { SimContext } from "../context.ts";
import type { AppConfig } from "../options.ts";
import type { Params } from "./params.ts";
import type { PlusHistory } from "./plus-history.ts";

/** What a command handler sees: the validated vendor, the raw params, and the caller. */
export interface CommandContext {
  sim: SimContext;
  session: Session;
  app: AppConfig;
  /** vendor_id after validation (default 0); unused by multi-vendor commands. */
  vendor: VendorId;
  params: Params;
  plus: PlusHistory;
}

/**
 * One sendExtendedRequest command. The dispatcher validates vendor_id against `vendors` (1017053 when the
 * vendor lacks the function) before `run`; "multi" commands take `vendors_id` and check it themselves.
 */
export interface ExtendedCommand {
  name: string;
  vendors: readonly VendorId[] | "multi";
  /** The vendor's `data` object; throw VendorError for vendor-level failures. */
  run(ctx: CommandContext): Record<string, unknown>;
  /**
   * Commands whose answer depends only on the catalog (at its current version), the vendor and the params
   * return a key naming the answer, after the same param checks `run` makes in the same order (so a bad param
   * throws the same error). The route then serves the page from page-cache.ts; `run` stays the uncached path.
   */
  pageKey?(ctx: CommandContext): string;
}

export const ALL_VENDORS: readonly VendorId[] = [0, 1, 2, 4];

/** Page size of every list command: the vendor does not publish one, so the simulator fixes 20. */
export const PAGE_SIZE = 20;
