import { type Static, Type } from "@sinclair/typebox";
import { defineKind, type Issue } from "./kind.ts";
import { Distribution, sampleDelay } from "./latency.ts";
import type { Rng } from "./rng.ts";

// media: a bad media path, on the published streams the selector picks (app_id, room_fraction,
// user_fraction of the publisher, stream_ids). Any combination, decided per frame:
//   loss        each frame is lost with this probability, independently;
//   burst_loss  Gilbert-Elliott: a good and a bad state, switching per frame with p_good_to_bad and
//               p_bad_to_good, losing loss_in_good / loss_in_bad of the frames in each: losses come in runs
//               (mean run in the bad state 1/p_bad_to_good frames) at the same average a `loss` would give;
//   jitter      each frame waits a sample of this distribution (frames may overtake each other, as on a path
//               whose delay varies by more than the frame interval);
//   delay       the relay delay of the stream: sampled once per stream, every frame waits it;
//   duplicate   a frame goes out twice with this probability;
//   reorder     with `probability` a frame goes out only after 1..max_displacement later frames.
// The chain's state follows the sequence numbers: a gap of k frames moves it k steps at once (closed form),
// a late or repeated frame leaves it, so the same frames give the same losses whatever their timing.

/** A frame waits at most this long per fault: held frames cost memory, and a path that late is broken. */
export const MAX_MEDIA_DELAY_MS = 10_000;
export const MAX_DISPLACEMENT = 64;

const Chance = (description: string) => Type.Number({ minimum: 0, maximum: 1, description });
const strict = { additionalProperties: false } as const;

const schema = Type.Object({
  loss: Type.Optional(Chance("chance each frame is lost, independently")),
  burst_loss: Type.Optional(
    Type.Object(
      {
        p_good_to_bad: Chance("per frame, chance the good state turns bad"),
        p_bad_to_good: Type.Number({
          exclusiveMinimum: 0,
          maximum: 1,
          description: "per frame, chance the bad state ends (mean bad run: 1/p frames)",
        }),
        loss_in_bad: Type.Optional(Chance("loss in the bad state (default 1)")),
        loss_in_good: Type.Optional(Chance("loss in the good state (default 0)")),
      },
      { ...strict, description: "Gilbert-Elliott bursty loss" },
    ),
  ),
  jitter: Type.Optional(Distribution),
  delay: Type.Optional(Distribution),
  duplicate: Type.Optional(Chance("chance a frame is sent twice")),
  reorder: Type.Optional(
    Type.Object(
      {
        probability: Chance("chance a frame is held back"),
        max_displacement: Type.Integer({
          minimum: 1,
          maximum: MAX_DISPLACEMENT,
          description: "a held frame goes out after 1..this many later frames",
        }),
      },
      strict,
    ),
  ),
});
type MediaFault = Static<typeof schema> & { selector?: Record<string, unknown> };

interface StreamState {
  /** This stream's relay delay, ms. */
  base: number;
  bad: boolean;
  /** Sequence number the chain state belongs to; null before the first frame. */
  last: number | null;
}

const STREAMLESS = ["route", "command", "vendor_id", "song_ids", "song_fraction", "resource_type"];

/** The delay a distribution centres on; above the cap, every sample would be clamped. */
function centre(d: Distribution): number {
  if (d.type === "fixed") return d.ms;
  if (d.type === "uniform") return d.min;
  if (d.type === "normal") return d.mean;
  return d.type === "lognormal" ? d.median : d.scale;
}

function check(f: MediaFault): Issue[] {
  const issues: Issue[] = [];
  if ([f.loss, f.burst_loss, f.jitter, f.delay, f.duplicate, f.reorder].every((x) => x === undefined)) {
    issues.push({
      path: "",
      message: "a media fault needs `loss`, `burst_loss`, `jitter`, `delay`, `duplicate` or `reorder`",
    });
  }
  for (const k of ["jitter", "delay"] as const) {
    const d = f[k];
    if (d && centre(d) > MAX_MEDIA_DELAY_MS) {
      issues.push({ path: k, message: `media delays are capped at ${MAX_MEDIA_DELAY_MS} ms` });
    }
  }
  issues.push(...streamSelectorIssues(f.selector));
  return issues;
}

/** Selector keys a fault on streams cannot use (they name requests): one issue each. */
export function streamSelectorIssues(selector: Record<string, unknown> | undefined): Issue[] {
  return STREAMLESS.filter((k) => selector?.[k] !== undefined).map((k) => ({
    path: `selector.${k}`,
    message: "media faults pick streams: use app_id, room_fraction, user_fraction or stream_ids",
  }));
}

/** Moves the chain to `seq`: P(bad after k steps) = pi + (bad - pi) * (1 - p_gb - p_bg)^k. */
function step(b: NonNullable<MediaFault["burst_loss"]>, st: StreamState, seq: number, u: number): void {
  const k = st.last === null ? 0 : (seq - st.last) | 0;
  if (st.last !== null && k <= 0) return;
  st.last = seq;
  if (k === 0) return;
  const pi = b.p_good_to_bad / (b.p_good_to_bad + b.p_bad_to_good);
  st.bad = u < pi + ((st.bad ? 1 : 0) - pi) * (1 - b.p_good_to_bad - b.p_bad_to_good) ** k;
}

export default defineKind<MediaFault, StreamState>({
  kind: "media",
  summary:
    "a bad media path on the picked streams: `loss`, `burst_loss` (Gilbert-Elliott), `jitter`, relay `delay`, `duplicate`, `reorder`",
  schema,
  check,
  phases: () => ["media"],
  mediaStream(fault, rng: Rng) {
    const b = fault.burst_loss;
    // The chain starts in its stationary distribution: a stream joining mid-burst is as likely as in life.
    const u = rng.next();
    const bad = b !== undefined && u < b.p_good_to_bad / (b.p_good_to_bad + b.p_bad_to_good);
    const base = fault.delay ? sampleDelay(fault.delay, rng) : 0;
    return { base, bad, last: null };
  },
  mediaFrame(fault, st, seq, rng, out) {
    // Fixed draw order, every draw taken: adding one effect to a profile leaves the others' decisions alone.
    const uLoss = rng.next();
    const uStep = rng.next();
    const uBurst = rng.next();
    const uDup = rng.next();
    const uHold = rng.next();
    const uShift = rng.next();
    const b = fault.burst_loss;
    if (b) step(b, st, seq, uStep);
    const burstLoss = b ? (st.bad ? (b.loss_in_bad ?? 1) : (b.loss_in_good ?? 0)) : 0;
    if ((fault.loss !== undefined && uLoss < fault.loss) || uBurst < burstLoss) {
      out.drop = true;
      return;
    }
    if (fault.duplicate !== undefined && uDup < fault.duplicate) out.duplicates = 1;
    const r = fault.reorder;
    if (r && uHold < r.probability) out.holdFrames = 1 + Math.floor(uShift * r.max_displacement);
    const ms = st.base + (fault.jitter ? sampleDelay(fault.jitter, rng) : 0);
    out.delayMs = Math.min(ms, MAX_MEDIA_DELAY_MS);
  },
});
