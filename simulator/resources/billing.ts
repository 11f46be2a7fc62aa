import { BillingMode } from "../../protocol/enums.ts";
import { VendorError } from "../errors.ts";
import type { AppConfig } from "../options.ts";

export interface BillingRequest {
  billing_mode: number;
  master_id: string | null;
  room_id: string | null;
}

// An app's plans: `monthly_plans` lists the modes it subscribed to (1 user-monthly, 2 room-monthly) and 0 when
// it may also pay per count. Undefined means every plan, so the development app can exercise every mode.
const hasPlan = (app: AppConfig, mode: number) =>
  app.monthly_plans === undefined || app.monthly_plans.includes(mode);

/**
 * The billing rules of spec §7: 1017042 unknown mode, 1017073 Master without master_id, 1017040 Room without
 * room_id (the room is what a room-monthly plan pays for), 1017032 a monthly mode without that plan, 1017043
 * Count from an app that has only monthly plans.
 */
export function checkBilling(req: BillingRequest, app: AppConfig): BillingMode {
  const mode = req.billing_mode;
  if (mode !== 0 && mode !== 1 && mode !== 2 && mode !== 3) throw new VendorError(1017042);
  if (mode === BillingMode.Master && !req.master_id) throw new VendorError(1017073);
  if (mode === BillingMode.Room && !req.room_id) {
    throw new VendorError(1017040, "illegal parameter: room billing needs room_id");
  }
  if ((mode === BillingMode.User || mode === BillingMode.Room) && !hasPlan(app, mode)) {
    throw new VendorError(1017032);
  }
  if (mode === BillingMode.Count && !hasPlan(app, BillingMode.Count)) throw new VendorError(1017043);
  return mode;
}
