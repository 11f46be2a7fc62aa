// Fundamental-frequency estimate of a short mono window, by autocorrelation: what the tests use to check that
// the synthesized voice sings the pitch line, and what a scorer could use on a microphone signal.

/**
 * The fundamental (Hz) of `x` sampled at `rate`, searched between `minHz` and `maxHz`: the first lag whose
 * correlation comes within 10% of the best one (so octave errors pick the true period), refined by a parabola
 * through its neighbours. NaN when nothing periodic is found.
 */
export function estimatePitchHz(x: ArrayLike<number>, rate: number, minHz = 70, maxHz = 1200): number {
  const minLag = Math.max(2, Math.floor(rate / maxHz));
  const maxLag = Math.ceil(rate / minHz);
  const n = x.length - maxLag - 1;
  if (n <= 0) return Number.NaN;
  const acf = new Float64Array(maxLag + 2);
  for (let lag = minLag - 1; lag <= maxLag + 1; lag++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += (x[i] as number) * (x[i + lag] as number);
    acf[lag] = s;
  }
  let best = 0;
  for (let lag = minLag; lag <= maxLag; lag++) best = Math.max(best, acf[lag] as number);
  if (best <= 0) return Number.NaN;
  for (let lag = minLag; lag <= maxLag; lag++) {
    const a = acf[lag - 1] as number;
    const b = acf[lag] as number;
    const c = acf[lag + 1] as number;
    if (b >= 0.9 * best && b >= a && b >= c) {
      const denom = a - 2 * b + c;
      const shift = denom === 0 ? 0 : (a - c) / (2 * denom);
      return rate / (lag + shift);
    }
  }
  return Number.NaN;
}
