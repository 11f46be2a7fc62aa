import { type Static, Type } from "@sinclair/typebox";
import { checkVendorCode, vendorCodeParam } from "./answer.ts";
import { defineKind } from "./kind.ts";

// outage: the vendor API is down. Every request the fault selects (by default: all vendor routes) answers
// 1017098 "network error", in a 200 envelope or, with `http_status: 503`, as a 503. Give it a window
// (`from`/`until`) to test how a partner's client notices the outage, backs off and recovers after it.

const schema = Type.Object({
  code: Type.Optional(vendorCodeParam("envelope code (default 1017098 network error)")),
  http_status: Type.Optional(Type.Literal(503, { description: "answer 503 instead of 200" })),
});
type OutageFault = Static<typeof schema>;

export const OUTAGE_CODE = 1017098;

export default defineKind<OutageFault>({
  kind: "outage",
  summary:
    "the whole vendor API answers 1017098 (or HTTP 503) while the fault is active, typically for a window",
  schema,
  terminal: true,
  check: (f) => checkVendorCode(f.code),
  apply({ fault }) {
    const vendorCode = fault.code ?? OUTAGE_CODE;
    return fault.http_status === undefined ? { vendorCode } : { vendorCode, httpStatus: fault.http_status };
  },
});
