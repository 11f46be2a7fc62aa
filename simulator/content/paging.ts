import type { Catalog, SongItem } from "../catalog/types.ts";
import { PAGE_SIZE } from "./command.ts";

/**
 * Page `page` (from 1) of the songs of `list` that pass `accept`, walking only as far as that page needs;
 * past the end is an empty list.
 */
export function pageOf(
  list: ArrayLike<number>,
  page: number,
  accept: (index: number) => boolean,
  size = PAGE_SIZE,
): number[] {
  const skip = (page - 1) * size;
  const out: number[] = [];
  let seen = 0;
  for (let k = 0; k < list.length && out.length < size; k++) {
    const i = list[k] as number;
    if (!accept(i)) continue;
    if (seen++ >= skip) out.push(i);
  }
  return out;
}

export const items = (catalog: Catalog, indexes: readonly number[]): SongItem[] =>
  indexes.map((i) => catalog.at(i).item);
