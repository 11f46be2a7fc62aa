/**
 * Stored lists (tags, charts) hide revoked songs without copying on every read: while nothing is revoked
 * the stored list is returned as is; after a revocation change each list is filtered once and cached
 * until the next change.
 */
export class LiveLists {
  private epoch = 0;
  private anyHidden = false;
  private cache = new WeakMap<readonly number[], { epoch: number; list: readonly number[] }>();

  /** `hidden(i)`: is song i revoked now (admin or fault)? Asked at most once per song per list and change. */
  constructor(private readonly hidden: (index: number) => boolean) {}

  changed(anyHidden: boolean): void {
    this.epoch++;
    this.anyHidden = anyHidden;
  }

  get version(): number {
    return this.epoch;
  }

  view(list: readonly number[]): readonly number[] {
    if (!this.anyHidden) return list;
    const hit = this.cache.get(list);
    if (hit && hit.epoch === this.epoch) return hit.list;
    const live = list.filter((i) => !this.hidden(i));
    this.cache.set(list, { epoch: this.epoch, list: live });
    return live;
  }
}
