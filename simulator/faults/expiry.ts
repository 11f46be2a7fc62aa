import { type Static, Type } from "@sinclair/typebox";
import { defineKind, type Issue, type Phase } from "./kind.ts";

// expiry: resources stop being valid earlier than the client expects. Three independent effects, each for the
// resources the selector picks (vendor_id, resource_type, song_ids / song_fraction, app_id, user_fraction...):
//   ttl_ms           resources issued while the fault is active get this validity instead of the default;
//   expire_existing  when the fault becomes active (profile applied, fault enabled, window opened), resources
//                    already issued expire at once: downloads answer 410 + 1017019, downloads in flight are cut;
//   expire_on_use    a download of a resource finds it expired (410 + 1017019) and it stays expired.
// `probability` is rolled per issued resource, per existing resource (keyed by app, user, vendor, song and type,
// so the same resources go whatever the order they were issued in) and per download respectively.

/** 30 days: longer than any session a test runs. */
export const MAX_TTL_MS = 30 * 24 * 3_600_000;

const schema = Type.Object({
  ttl_ms: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: MAX_TTL_MS,
      description: "validity (ms) of resources issued while the fault is active, instead of the default",
    }),
  ),
  expire_existing: Type.Optional(
    Type.Boolean({ description: "true: resources already issued expire when the fault becomes active" }),
  ),
  expire_on_use: Type.Optional(
    Type.Boolean({ description: "true: a download finds its resource expired (410 + 1017019)" }),
  ),
});
type ExpiryFault = Static<typeof schema> & { selector?: { command?: string } };

function check(f: ExpiryFault): Issue[] {
  const issues: Issue[] = [];
  if (f.ttl_ms === undefined && f.expire_existing !== true && f.expire_on_use !== true) {
    issues.push({
      path: "",
      message: "an expiry fault needs `ttl_ms`, `expire_existing: true` or `expire_on_use: true`",
    });
  }
  if (f.selector?.command !== undefined) {
    issues.push({ path: "selector.command", message: "resources have no extended command; use route" });
  }
  return issues;
}

function phases(f: ExpiryFault): Phase[] {
  const out: Phase[] = [];
  if (f.ttl_ms !== undefined) out.push("issue");
  if (f.expire_existing === true) out.push("sweep");
  if (f.expire_on_use === true) out.push("download");
  return out;
}

export default defineKind<ExpiryFault>({
  kind: "expiry",
  summary:
    "resources expire early: `ttl_ms` for resources issued meanwhile, `expire_existing` when the fault starts, `expire_on_use` per download (410 + 1017019)",
  schema,
  check,
  phases,
  issue: ({ fault }) => fault.ttl_ms ?? 0,
  download: () => ({ expire: true }),
});
