import { type Static, Type } from "@sinclair/typebox";
import { CODE_FOR_STATUS, checkVendorCode, vendorCodeParam } from "./answer.ts";
import { defineKind, type Issue } from "./kind.ts";

// error: answer instead of the route, with a vendor code in a 200 envelope (what the real service does), an
// HTTP status (429/500/503, envelope code derived from the status unless `code` is given), or by dropping
// the connection without an answer.

const schema = Type.Object({
  code: Type.Optional(
    vendorCodeParam("vendor error code in the envelope, e.g. 1017010, 1017097, 1017098, 1017099"),
  ),
  http_status: Type.Optional(
    Type.Union([Type.Literal(429), Type.Literal(500), Type.Literal(503)], {
      description: "HTTP status to answer",
    }),
  ),
  drop: Type.Optional(Type.Boolean({ description: "true: destroy the connection without answering" })),
});
type ErrorFault = Static<typeof schema>;

function check(f: ErrorFault): Issue[] {
  const answers = f.code !== undefined || f.http_status !== undefined;
  if (f.drop === true && answers) {
    return [{ path: "drop", message: "cannot be combined with code or http_status" }];
  }
  if (f.drop !== true && !answers) {
    return [{ path: "", message: "an error fault needs `code`, `http_status` or `drop: true`" }];
  }
  return checkVendorCode(f.code);
}

export default defineKind<ErrorFault>({
  kind: "error",
  summary:
    "answer with a vendor `code` (HTTP 200 envelope), an `http_status` 429/500/503, or `drop` the connection",
  schema,
  terminal: true,
  check,
  apply({ fault }) {
    if (fault.drop) return { dropConnection: true };
    if (fault.http_status === undefined) return { vendorCode: fault.code };
    return { httpStatus: fault.http_status, vendorCode: fault.code ?? CODE_FOR_STATUS[fault.http_status] };
  },
});
