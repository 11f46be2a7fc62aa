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

/** Judged when some rounds gave no figure: a side with none has nulls, and so has the ratio. */
export type JudgedRounds = { [K in keyof Judged]: K extends "pass" ? boolean : number | null };

export interface Verdict {
  higherIsBetter: boolean;
  target: number;
  targetOf: "ratio" | "ours";
}

/** Every round gave both sides a figure. */
export function judge(ours: readonly number[], reference: readonly number[], v: Verdict): Judged {
  if (ours.length === 0) throw new RangeError("a race needs at least one round");
  return judgeRounds(ours, reference, v) as Judged;
}

/**
 * Rounds where a side may have given no figure (null: the round failed, runner/case.ts RoundFailure). Each
 * side's median is over its own figures; the per-round min-max over the rounds where both sides gave one. A
 * side with no figure at all has no median: the ratio is null and the case does not pass.
 */
export function judgeRounds(
  ours: readonly (number | null)[],
  reference: readonly (number | null)[],
  v: Verdict,
): JudgedRounds {
  if (ours.length !== reference.length) {
    throw new RangeError(
      `a race needs as many measurements of each side (${ours.length} vs ${reference.length})`,
    );
  }
  for (const x of [...ours, ...reference]) {
    if (x !== null && (!Number.isFinite(x) || x <= 0))
      throw new RangeError(`a measurement must be a positive number, got ${x}`);
  }
  const os = ours.filter((x): x is number => x !== null);
  const rs = reference.filter((x): x is number => x !== null);
  const o = os.length > 0 ? median(os) : null;
  const r = rs.length > 0 ? median(rs) : null;
  const ratio = o !== null && r !== null ? orientedRatio(o, r, v.higherIsBetter) : null;
  const perRound: number[] = [];
  for (let i = 0; i < ours.length; i++) {
    const a = ours[i];
    const b = reference[i];
    if (a != null && b != null) perRound.push(orientedRatio(a, b, v.higherIsBetter));
  }
  const pass =
    ratio !== null &&
    o !== null &&
    (v.targetOf === "ratio" ? ratio >= v.target : v.higherIsBetter ? o >= v.target : o <= v.target);
  const least = (xs: number[]) => (xs.length > 0 ? Math.min(...xs) : null);
  const most = (xs: number[]) => (xs.length > 0 ? Math.max(...xs) : null);
  return {
    ours: o,
    reference: r,
    ratio,
    min: least(perRound),
    max: most(perRound),
    oursMin: least(os),
    oursMax: most(os),
    referenceMin: least(rs),
    referenceMax: most(rs),
    pass,
  };
}
