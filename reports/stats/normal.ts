// The standard normal distribution's upper tail, for the Mann-Whitney normal approximation.

/**
 * erfc(x), Chebyshev fit (Numerical Recipes' erfcc): fractional error below 1.2e-7 everywhere, which keeps
 * tiny p-values (1e-20) meaningful, unlike 1 - erf(x).
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  let poly = 0;
  for (let i = ERFC_COEFFS.length - 1; i >= 0; i--) poly = poly * t + ERFC_COEFFS[i]!;
  const r = t * Math.exp(-z * z + poly);
  return x >= 0 ? r : 2 - r;
}

// Coefficients of t^0 .. t^9 in the exponent.
const ERFC_COEFFS = [
  -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
  -0.82215223, 0.17087277,
];

/** P(Z > z) for a standard normal Z. */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}
