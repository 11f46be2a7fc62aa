import { F_REVOKED } from "./songs.ts";

/**
 * Stored lists (tags, charts) hide revoked songs without copying on every read: while nothing is revoked
 * the stored list is returned as is; after a revocation change each list is filtered once and cached
 * until the next change.
 */
export class LiveLists {
  private epoch = 0;
  private revokedCount = 0;
  private cache = new WeakMap<readonly number[], { epoch: number; list: readonly number[] }>();

  constructor(private readonly flags: Uint8Array) {}

  changed(revokedCount: number): void {
    this.epoch++;
    this.revokedCount = revokedCount;
  }

  get version(): number {
    return this.epoch;
  }

  view(list: readonly number[]): readonly number[] {
    if (this.revokedCount === 0) return list;
    const hit = this.cache.get(list);
    if (hit && hit.epoch === this.epoch) return hit.list;
    const live = list.filter((i) => ((this.flags[i] as number) & F_REVOKED) === 0);
    this.cache.set(list, { epoch: this.epoch, list: live });
    return live;
  }
}
