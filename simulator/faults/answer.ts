import { Type } from "@sinclair/typebox";
import { VendorMessage } from "../../protocol/codes.ts";
import type { Issue } from "./kind.ts";

// What the answering kinds (error, outage) share: which codes they may put in the envelope, and which code
// goes with an injected HTTP status when the profile names only the status.

export const vendorCodeParam = (description: string) => Type.Integer({ description });

/** The vendor's own reading of each status we inject, so clients that look only at the code still see why. */
export const CODE_FOR_STATUS: Record<number, number> = { 429: 1017097, 500: 1017099, 503: 1017098 };

/** An issue when `code` is not one of the vendor's error codes (0 is success, not an error). */
export function checkVendorCode(code: number | undefined): Issue[] {
  if (code === undefined || (code !== 0 && VendorMessage[code] !== undefined)) return [];
  return [{ path: "code", message: `${code} is not a vendor error code (see protocol/codes.ts)` }];
}
