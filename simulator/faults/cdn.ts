import { type Static, Type } from "@sinclair/typebox";
import { type DownloadEffect, defineKind, type Issue } from "./kind.ts";
import { Distribution, sampleDelay } from "./latency.ts";

// cdn: a bad download path. Any combination, on the downloads the selector picks (vendor_id, resource_type,
// song_ids, user_fraction..., route "GET|HEAD /v1/music/download/:resource_id"):
//   first_byte         the response headers wait a sample of this distribution (a slow first byte);
//   stall              after `after_bytes` body bytes the body pauses for a sample of `duration`;
//   reset_after_bytes  the connection is closed once exactly this many body bytes went out;
//   bandwidth          the body is capped at `bytes_per_sec`, per connection or shared by every download the
//                      fault hits ("global").
// Byte counts are of this response's body (a Range answer counts from its first byte). Every wait ends when the
// client goes away or the fault is removed or disabled, and a removed fault's cap lifts mid-download.

/** 1 TiB: past any file the simulator serves. */
const MAX_BYTES = 2 ** 40;

const strict = { additionalProperties: false } as const;
const schema = Type.Object({
  first_byte: Type.Optional(Distribution),
  stall: Type.Optional(
    Type.Object(
      {
        after_bytes: Type.Integer({
          minimum: 0,
          maximum: MAX_BYTES,
          description: "body bytes before the stall",
        }),
        duration: Distribution,
      },
      { ...strict, description: "pause the body once, mid-download" },
    ),
  ),
  reset_after_bytes: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: MAX_BYTES,
      description: "close the connection after this many bytes",
    }),
  ),
  bandwidth: Type.Optional(
    Type.Object(
      {
        bytes_per_sec: Type.Integer({ minimum: 1000, maximum: 10_000_000_000, description: "cap, bytes/s" }),
        scope: Type.Optional(
          Type.Union([Type.Literal("connection"), Type.Literal("global")], {
            description:
              'each download alone ("connection", the default) or all hit downloads together ("global")',
          }),
        ),
      },
      strict,
    ),
  ),
});
type CdnFault = Static<typeof schema> & { selector?: { command?: string } };

function check(f: CdnFault): Issue[] {
  const issues: Issue[] = [];
  if (!f.first_byte && !f.stall && f.reset_after_bytes === undefined && !f.bandwidth) {
    issues.push({
      path: "",
      message: "a cdn fault needs `first_byte`, `stall`, `reset_after_bytes` or `bandwidth`",
    });
  }
  if (f.selector?.command !== undefined) {
    issues.push({ path: "selector.command", message: "downloads have no extended command; use route" });
  }
  return issues;
}

export default defineKind<CdnFault>({
  kind: "cdn",
  summary:
    "a bad download path: slow `first_byte`, a `stall` mid-body, `reset_after_bytes`, a `bandwidth` cap (per connection or global)",
  schema,
  check,
  phases: () => ["download"],
  download({ fault }, rng) {
    const e: DownloadEffect = {};
    if (fault.first_byte) e.firstByteDelayMs = sampleDelay(fault.first_byte, rng);
    if (fault.stall)
      e.stall = { afterBytes: fault.stall.after_bytes, ms: sampleDelay(fault.stall.duration, rng) };
    if (fault.reset_after_bytes !== undefined) e.resetAfterBytes = fault.reset_after_bytes;
    if (fault.bandwidth) {
      e.cap = { bytesPerSec: fault.bandwidth.bytes_per_sec, global: fault.bandwidth.scope === "global" };
    }
    return e;
  },
});
