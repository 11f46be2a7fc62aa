// The arithmetic of a race: medians, per-round ratios oriented so that higher is better, and the verdict
// against the case's target. Pure, so the tests pin it down exactly.

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError("median of no values");
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** ours / reference for a rate, reference / ours for a cost: above 1 means ours is better either way. */
export function orientedRatio(ours: number, reference: number, higherIsBetter: boolean): number {
  return higherIsBetter ? ours / reference : reference / ours;
}

export interface Judged {
  ours: number;
  reference: number;
  ratio: number;
  /** Smallest and largest per-round ratio (round i's ours against round i's reference). */
  min: number;
  max: number;
  oursMin: number;
  oursMax: number;
  referenceMin: number;
  referenceMax: number;
  pass: boolean;
}

export interface Verdict {
  higherIsBetter: boolean;
  target: number;
  targetOf: "ratio" | "ours";
}

export function judge(ours: readonly number[], reference: readonly number[], v: Verdict): Judged {
  if (ours.length === 0 || ours.length !== reference.length) {
    throw new RangeError(
      `a race needs as many measurements of each side (${ours.length} vs ${reference.length})`,
    );
  }
  for (const x of [...ours, ...reference]) {
    if (!Number.isFinite(x) || x <= 0)
      throw new RangeError(`a measurement must be a positive number, got ${x}`);
  }
  const o = median(ours);
  const r = median(reference);
  const ratio = orientedRatio(o, r, v.higherIsBetter);
  const perRound = ours.map((x, i) => orientedRatio(x, reference[i]!, v.higherIsBetter));
  const pass = v.targetOf === "ratio" ? ratio >= v.target : v.higherIsBetter ? o >= v.target : o <= v.target;
  return {
    ours: o,
    reference: r,
    ratio,
    min: Math.min(...perRound),
    max: Math.max(...perRound),
    oursMin: Math.min(...ours),
    oursMax: Math.max(...ours),
    referenceMin: Math.min(...reference),
    referenceMax: Math.max(...reference),
    pass,
  };
}
