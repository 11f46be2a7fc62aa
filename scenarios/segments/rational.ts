// Exact rationals for execution segments. k6 keeps segment bounds as big.Rat so that thirds, sevenths and
// 7/20 add up to exactly 1 and every instance computes the same split from its own segment alone; doubles
// would make 1/3 + 1/3 + 1/3 a coverage question. bigint numerator and denominator, always reduced, d > 0.

export interface Rat {
  readonly n: bigint;
  readonly d: bigint;
}

const gcd = (a: bigint, b: bigint): bigint => {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
};

export function rat(n: bigint, d = 1n): Rat {
  if (d === 0n) throw new RangeError("zero denominator");
  if (d < 0n) [n, d] = [-n, -d];
  const g = gcd(n, d) || 1n;
  return { n: n / g, d: d / g };
}

export const ZERO = rat(0n);
export const ONE = rat(1n);

export const add = (a: Rat, b: Rat): Rat => rat(a.n * b.d + b.n * a.d, a.d * b.d);
export const sub = (a: Rat, b: Rat): Rat => rat(a.n * b.d - b.n * a.d, a.d * b.d);
export const cmp = (a: Rat, b: Rat): number => {
  const x = a.n * b.d - b.n * a.d;
  return x < 0n ? -1 : x > 0n ? 1 : 0;
};

/** k6's RatString: "1/2", or "1" for integers. */
export const ratString = (a: Rat): string => (a.d === 1n ? `${a.n}` : `${a.n}/${a.d}`);

export const ratFloat = (a: Rat): number => Number(a.n) / Number(a.d);

const PERCENT = /^([+-]?\d+)%$/;
const FRACTION = /^([+-]?\d+)\/(\d+)$/;
const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * What k6's stringToRat accepts: a whole percentage ("50%"), a fraction ("1/3") or a decimal ("0.5", "5e-1").
 * Returns an Error naming the value otherwise.
 */
export function parseRat(s: string): Rat | Error {
  const bad = () => new Error(`'${s}' is not a valid percentage, decimal or fraction`);
  const p = PERCENT.exec(s);
  if (p) return rat(BigInt(p[1]!), 100n);
  const f = FRACTION.exec(s);
  if (f) return BigInt(f[2]!) === 0n ? bad() : rat(BigInt(f[1]!), BigInt(f[2]!));
  const m = DECIMAL.exec(s);
  if (!m) return bad();
  const [, sign, whole = "", frac = "", exp] = m;
  if (whole === "" && frac === "") return bad();
  const e = exp === undefined ? 0 : Number(exp);
  if (!Number.isSafeInteger(e) || Math.abs(e) > 100) return bad();
  let n = BigInt(`${whole}${frac}` || "0");
  let d = 10n ** BigInt(frac.length);
  if (e >= 0) n *= 10n ** BigInt(e);
  else d *= 10n ** BigInt(-e);
  return rat(sign === "-" ? -n : n, d);
}
