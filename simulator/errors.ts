import { messageFor } from "../protocol/codes.ts";

/**
 * A vendor-level failure: answered as the envelope `{code, message}`. HTTP 200 by default because the real
 * service answers vendor errors with 200 (wire-api.md); malformed HTTP, auth and expiry use their statuses.
 */
export class VendorError extends Error {
  readonly code: number;
  readonly httpStatus: number;
  constructor(code: number, message?: string, httpStatus = 200) {
    super(message ?? messageFor(code));
    this.name = "VendorError";
    this.code = code;
    this.httpStatus = httpStatus;
  }
}

export const vendorError = (code: number, message?: string, httpStatus = 200) =>
  new VendorError(code, message, httpStatus);

/** 400 + 1017040: the body or query does not have the documented shape. */
export const illegalParam = (why: string) => new VendorError(1017040, `illegal parameter: ${why}`, 400);
