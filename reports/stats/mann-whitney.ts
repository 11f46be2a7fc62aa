// Mann-Whitney U (Wilcoxon rank-sum) test: do the values of x tend to be larger or smaller than those of y?
// Rank-based, so it suits latency samples (skewed, heavy-tailed) where a t-test would be misled by the tail.
// Exact null distribution for small samples without ties; otherwise the normal approximation with the tie
// correction and a continuity correction (the conventions of R's wilcox.test and SciPy's mannwhitneyu).

import { normalUpperTail } from "./normal.ts";

export type MannWhitneyMethod = "auto" | "exact" | "normal";

export interface MannWhitneyResult {
  n1: number;
  n2: number;
  /** Pairs (x_i, y_j) with x_i > y_j, ties counting one half. u1 + u2 = n1 * n2. */
  u1: number;
  u2: number;
  /** Two-sided p-value: x and y come from the same distribution. */
  p: number;
  /** One-sided p-values: x tends to be greater / less than y. */
  pGreater: number;
  pLess: number;
  method: "exact" | "normal";
  /** The z score of u1 (continuity-corrected toward the mean) for the normal method, else null. */
  z: number | null;
  ties: boolean;
}

/** Up to this many observations in total (and no ties) "auto" counts the exact distribution. */
export const EXACT_MAX_TOTAL = 50;

export function mannWhitneyU(
  x: readonly number[],
  y: readonly number[],
  method: MannWhitneyMethod = "auto",
): MannWhitneyResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError("mann-whitney needs at least one value in each sample");
  for (const v of [...x, ...y]) {
    if (!Number.isFinite(v)) throw new RangeError(`mann-whitney needs finite values, got ${v}`);
  }
  const { rankSumX, tieTerm } = rankSum(x, y);
  const u1 = rankSumX - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  const ties = tieTerm > 0;
  const useExact = method === "exact" || (method === "auto" && !ties && n1 + n2 <= EXACT_MAX_TOTAL);
  if (useExact) {
    if (ties) throw new RangeError("the exact mann-whitney distribution assumes no ties");
    const { atMost, atLeast } = exactTails(n1, n2, u1);
    return {
      n1,
      n2,
      u1,
      u2,
      p: Math.min(1, 2 * Math.min(atMost, atLeast)),
      pGreater: atLeast,
      pLess: atMost,
      method: "exact",
      z: null,
      ties,
    };
  }
  const n = n1 + n2;
  const mu = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (!(variance > 0)) {
    // Every value is the same: nothing to tell the samples apart.
    return { n1, n2, u1, u2, p: 1, pGreater: 1, pLess: 1, method: "normal", z: 0, ties };
  }
  const sd = Math.sqrt(variance);
  const towardMean = u1 > mu ? -0.5 : u1 < mu ? 0.5 : 0;
  return {
    n1,
    n2,
    u1,
    u2,
    p: Math.min(1, 2 * normalUpperTail((Math.max(u1, u2) - mu - 0.5) / sd)),
    pGreater: normalUpperTail((u1 - mu - 0.5) / sd),
    pLess: 1 - normalUpperTail((u1 - mu + 0.5) / sd),
    method: "normal",
    z: (u1 - mu + towardMean) / sd,
    ties,
  };
}

/** Sum of x's mid-ranks in the pooled sample, and sum(t^3 - t) over groups of t tied values. */
function rankSum(x: readonly number[], y: readonly number[]): { rankSumX: number; tieTerm: number } {
  const pooled = [...x.map((v) => ({ v, fromX: true })), ...y.map((v) => ({ v, fromX: false }))];
  pooled.sort((a, b) => a.v - b.v);
  let rankSumX = 0;
  let tieTerm = 0;
  for (let i = 0; i < pooled.length; ) {
    let j = i;
    while (j + 1 < pooled.length && pooled[j + 1]!.v === pooled[i]!.v) j++;
    const t = j - i + 1;
    const midRank = (i + 1 + j + 1) / 2;
    for (let k = i; k <= j; k++) if (pooled[k]!.fromX) rankSumX += midRank;
    if (t > 1) tieTerm += t * t * t - t;
    i = j + 1;
  }
  return { rankSumX, tieTerm };
}

/**
 * P(U <= u) and P(U >= u) under the null: every choice of x's ranks among 1..n1+n2 is equally likely. Counts
 * the subsets of size n1 by rank sum (counts reach C(50, 25) ~ 1.3e14, exact in a double).
 */
function exactTails(n1: number, n2: number, u: number): { atMost: number; atLeast: number } {
  const n = n1 + n2;
  const maxSum = (n * (n + 1)) / 2;
  const ways: Float64Array[] = Array.from({ length: n1 + 1 }, () => new Float64Array(maxSum + 1));
  ways[0]![0] = 1;
  for (let rank = 1; rank <= n; rank++) {
    for (let k = Math.min(rank, n1); k >= 1; k--) {
      const into = ways[k]!;
      const from = ways[k - 1]!;
      for (let s = maxSum; s >= rank; s--) into[s]! += from[s - rank]!;
    }
  }
  const offset = (n1 * (n1 + 1)) / 2;
  let total = 0;
  let atMost = 0;
  let atLeast = 0;
  const bySum = ways[n1]!;
  for (let s = offset; s <= maxSum; s++) {
    const c = bySum[s]!;
    if (c === 0) continue;
    total += c;
    if (s - offset <= u) atMost += c;
    if (s - offset >= u) atLeast += c;
  }
  return { atMost: atMost / total, atLeast: atLeast / total };
}
