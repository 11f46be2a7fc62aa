import type { ExecutorPlan, VuStep } from "../load/executors/types.ts";
import type { ExecutionTuple } from "./tuple.ts";

// One executor's plan cut down to this instance's execution segment, as k6's executors do it
// (lib/executor/*.go, GetExecutionRequirements and Run):
//   constant-vus, per-vu-iterations  vus scaled (per-VU iterations unchanged: each VU still does them all).
//   shared-iterations                vus scaled; the total scaled by the tuple re-cut over vus (k6's Init), so
//                                    an instance's share of the iterations follows its share of the VUs.
//   ramping-vus                      the VU count at every moment scaled: the instance owns the whole test's
//                                    VU numbers of its stripe, and has as many running as the whole test has
//                                    of those numbers (k6's getRawExecutionSteps walking a SegmentedIndex).
//                                    Ramps therefore interleave: the instances together follow the ramp.
//   constant/ramping-arrival-rate    preAllocatedVUs and maxVUs scaled; the arrivals are the whole test's
//                                    schedule striped by the tuple re-cut over maxVUs: the instance starts
//                                    the arrivals whose global index it owns, at their global times, so the
//                                    instances' starts together are the unsegmented schedule, each once.
// An executor left with nothing to do in this segment (k6's HasWork false) keeps its times and has zero VUs,
// iterations or arrivals: the runners start nothing for it.

export function segmentPlan(p: ExecutorPlan, t: ExecutionTuple): ExecutorPlan {
  if (t.whole) return p;
  const { segment, sequence } = t.describe();
  const note = (what: string) => `${p.description}; segment ${segment} of ${sequence}: ${what}`;
  const global = (cut: ExecutionTuple | null) => (k: number) => (cut ?? t).globalIndex(k);
  switch (p.executor) {
    case "constant-vus":
    case "per-vu-iterations": {
      const vus = t.scale(p.maxVUs);
      return {
        ...p,
        maxVUs: vus,
        preAllocatedVUs: vus,
        vuSteps: [{ atMs: 0, vus }],
        globalIteration: global(t),
        description: note(`${vus} VUs`),
      };
    }
    case "shared-iterations": {
      const total = (p.iterations as { total: number }).total;
      const cut = t.fromValue(p.maxVUs);
      const vus = t.scale(p.maxVUs);
      const mine = cut === null || vus === 0 ? 0 : cut.scale(total);
      return {
        ...p,
        maxVUs: mine === 0 ? 0 : vus,
        preAllocatedVUs: mine === 0 ? 0 : vus,
        vuSteps: [{ atMs: 0, vus: mine === 0 ? 0 : vus }],
        iterations: { total: mine },
        globalIteration: global(cut),
        description: note(`${mine} of the ${total} iterations, ${mine === 0 ? 0 : vus} VUs`),
      };
    }
    case "ramping-vus": {
      const steps: VuStep[] = [];
      for (const s of p.vuSteps) {
        const vus = t.scale(s.vus);
        const last = steps[steps.length - 1];
        if (last && last.vus === vus) continue;
        if (last && last.atMs === s.atMs) last.vus = vus;
        else steps.push({ atMs: s.atMs, vus });
      }
      const maxVUs = Math.max(...steps.map((s) => s.vus));
      return {
        ...p,
        maxVUs,
        preAllocatedVUs: maxVUs,
        vuSteps: steps,
        globalIteration: global(t),
        description: note(`up to ${maxVUs} VUs`),
      };
    }
    case "constant-arrival-rate":
    case "ramping-arrival-rate": {
      const all = p.arrivals!;
      const cut = t.fromValue(p.maxVUs);
      const maxVUs = t.scale(p.maxVUs);
      const count = cut === null || maxVUs === 0 ? 0 : cut.scale(all.count);
      return {
        ...p,
        maxVUs,
        preAllocatedVUs: t.scale(p.preAllocatedVUs),
        vuSteps: [{ atMs: 0, vus: t.scale(p.preAllocatedVUs) }],
        arrivals: { count, at: (k) => all.at(cut!.globalIndex(k)) },
        globalIteration: global(cut),
        description: note(
          `${count} of the ${all.count} arrivals, ${t.scale(p.preAllocatedVUs)}-${maxVUs} VUs`,
        ),
      };
    }
    default:
      throw new Error(`segmentPlan: no rule for executor ${p.executor}`);
  }
}

/** One line for stderr about a segmented plan (null for the whole test): which share, and if it is empty. */
export function segmentNotice(plan: {
  segment: { segment: string; sequence: string };
  maxVUs: number;
}): string | null {
  const { segment, sequence } = plan.segment;
  if (segment === "0:1") return null;
  return plan.maxVUs === 0
    ? `execution segment ${segment} of ${sequence}: no executor has work in this segment (every share is 0 VUs), nothing runs here`
    : `execution segment ${segment} of ${sequence}: this instance runs its share, ${plan.maxVUs} VUs at most`;
}
