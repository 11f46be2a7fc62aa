// Helpers for the codec tests: a known signal, and how alike two signals are.

/** `frames` stereo sample frames of a `hz` sine at `amplitude` (both channels), 48 kHz. */
export function tone(frames: number, hz = 440, amplitude = 8000): Int16Array {
  const out = new Int16Array(frames * 2);
  for (let i = 0; i < frames; i++) {
    const v = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / 48_000));
    out[2 * i] = v;
    out[2 * i + 1] = v;
  }
  return out;
}

/** Left channel of interleaved stereo. */
export function left(stereo: Int16Array): Float64Array {
  const out = new Float64Array(stereo.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = stereo[2 * i]!;
  return out;
}

/**
 * The best normalised cross-correlation of `got` against `sent` over lags 0..maxLag (`got` delayed), each
 * compared over `sent`'s samples from `skip` on (the codec's start-up is left out). Returns the value and lag.
 */
export function bestCorrelation(
  sent: Float64Array,
  got: Float64Array,
  maxLag: number,
  skip = 0,
): { r: number; lag: number } {
  let best = { r: -1, lag: 0 };
  for (let lag = 0; lag <= maxLag; lag++) {
    const n = Math.min(sent.length, got.length - lag);
    let xy = 0;
    let xx = 0;
    let yy = 0;
    for (let i = skip; i < n; i++) {
      const x = sent[i]!;
      const y = got[i + lag]!;
      xy += x * y;
      xx += x * x;
      yy += y * y;
    }
    const r = xx > 0 && yy > 0 ? xy / Math.sqrt(xx * yy) : 0;
    if (r > best.r) best = { r, lag };
  }
  return best;
}
