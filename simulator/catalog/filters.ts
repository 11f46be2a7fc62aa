import { F_KRC, F_LYRIC, F_PITCH, F_PURE, F_REVOKED } from "./songs.ts";

// The spec's filter codes as flag masks: a song passes when it has every `require` flag and no `forbid` flag.
// 1 = lyric/composition (accompaniment) rights, 2 = not pure music, 3 = word-by-word lyrics, 4 = pitch line.
export const FILTER_CODES = [1, 2, 3, 4] as const;

export interface FilterMask {
  require: number;
  forbid: number;
}

export function filterMask(codes: readonly number[] = []): FilterMask {
  let require = 0;
  let forbid = F_REVOKED;
  for (const c of codes) {
    if (c === 1) require |= F_LYRIC;
    else if (c === 2) forbid |= F_PURE;
    else if (c === 3) require |= F_KRC;
    else if (c === 4) require |= F_PITCH;
    else throw new RangeError(`unknown filter code ${c}`);
  }
  return { require, forbid };
}

export const passes = (flags: number, m: FilterMask): boolean =>
  (flags & m.require) === m.require && (flags & m.forbid) === 0;
