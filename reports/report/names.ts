// Display names for what the results files carry as bare keys: metric names, billing modes, vendors and error
// codes. The numbers come from protocol/ (the shared wire vocabulary), so a name cannot drift from the code.

import { VendorCode, VendorMessage } from "../../protocol/codes.ts";
import { BillingMode, VendorId } from "../../protocol/enums.ts";

/** The stages of a song start and the media path, in the order a report shows them. */
export const STAGES = ["ttfa_ms", "request_resource_ms", "download_ms", "e2e_latency_ms"] as const;

const METRIC_TITLES: Record<string, string> = {
  ttfa_ms: "Time to first audio (from the session start)",
  pick_to_first_packet_ms: "Time to first audio from the song pick (first packet published)",
  // Its name in results written before the rename.
  pick_to_audio_ms: "Time to first audio from the song pick",
  media_jitter_ms: "Listener jitter (RFC 3550)",
  request_resource_ms: "requestResource",
  download_ms: "Download",
  e2e_latency_ms: "End-to-end media latency",
  mix_lateness_ms: "Mix lateness",
  mix_cost_us: "Mix cost per frame",
};

export function metricTitle(metric: string): string {
  return METRIC_TITLES[metric] ?? metric;
}

const MODE_NAMES = invert(BillingMode);
const VENDOR_NAMES = invert(VendorId);
const CODE_NAMES = invert(VendorCode);

/** "0" -> "Count (0)"; an unknown key is shown as it is. */
export function billingModeName(key: string): string {
  const name = MODE_NAMES.get(Number(key));
  return name ? `${name} (${key})` : key;
}

export function vendorName(key: string): string {
  const name = VENDOR_NAMES.get(Number(key));
  return name ? `${name} (${key})` : key;
}

/** The catalogue name and message of a vendor code; null for codes outside the catalogue (e.g. HTTP 503). */
export function codeInfo(code: string): { name: string; message: string } | null {
  const n = Number(code);
  const name = CODE_NAMES.get(n);
  if (name === undefined) return null;
  return { name, message: VendorMessage[n] ?? "" };
}

function invert(o: Record<string, number>): Map<number, string> {
  const m = new Map<number, string>();
  for (const [k, v] of Object.entries(o)) if (!m.has(v)) m.set(v, k);
  return m;
}
