import { serverApiMessageFor } from "../../protocol/server-api.ts";
import { VendorError } from "../errors.ts";

// Server API failures carry the server API's own codes (3200xxxxx, 1000000xx). The actions reuse the SDK
// path's commands, which throw the SDK's codes (1017xxx); `translate` maps those one to one where the vendor
// documents a server code with the same meaning, and to 320050003 "undefined engine error" (naming the SDK
// code) where it does not, so nothing is silently renamed into a wrong meaning.

export class ServerApiError extends Error {
  readonly code: number;
  readonly httpStatus: number;
  constructor(code: number, message?: string, httpStatus = 200) {
    super(message ?? serverApiMessageFor(code));
    this.name = "ServerApiError";
    this.code = code;
    this.httpStatus = httpStatus;
  }
}

/** 320000004 naming the param, as the vendor's pages ask: "judge the illegal param from Message". */
export const illegalParam = (name: string, why: string) =>
  new ServerApiError(320000004, `illegal parameter: ${name} ${why}`);

/** SDK code -> server API code of the same meaning. */
export const SERVER_CODE_FOR: Readonly<Record<number, number>> = {
  1017000: 320000004, // command empty: cannot happen (the action names it), kept for completeness
  1017001: 320000004,
  1017002: 320000004, // song_id empty
  1017040: 320000004,
  1017041: 320010000,
  1017048: 320010009, // lyric fetch failed
  1017052: 320010013,
  1017053: 320010014,
  1017071: 320040001,
  1017072: 320040004, // song not in this vendor's library
  1017034: 320040004,
  1017074: 320040005,
  1017077: 320040008,
  1017097: 320050002, // system busy
  1017098: 320050002, // network error (the outage fault): the server is unreachable for now, retry later
  1017099: 320050000, // internal error
};

/** The server API code for an SDK code (see SERVER_CODE_FOR); unknown ones are 320050003. */
export function serverCodeFor(sdkCode: number): number {
  return SERVER_CODE_FOR[sdkCode] ?? 320050003;
}

/**
 * An SDK-path failure as a server API failure. `rename` turns the SDK's snake_case param names in the message
 * into the server API's (tag_id -> TagId), so a partner reads the name they sent.
 */
export function translate(e: VendorError, rename: (message: string) => string): ServerApiError {
  const code = serverCodeFor(e.code);
  const why = rename(e.message);
  const message = code === 320050003 ? `${why} (SDK code ${e.code})` : why;
  return new ServerApiError(code, message, e.httpStatus === 429 ? 200 : e.httpStatus);
}

export const isVendorError = (e: unknown): e is VendorError => e instanceof VendorError;
