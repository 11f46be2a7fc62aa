import type { VendorId } from "../../../protocol/enums.ts";
import { normalise } from "../../catalog/search-index.ts";
import { VendorError } from "../../errors.ts";
import { ALL_VENDORS, type ExtendedCommand, PAGE_SIZE } from "../command.ts";
import { items as itemsOf } from "../paging.ts";
import { filter, illegal, keywordParam, optInt, optIntList, page, vendorValue } from "../params.ts";

/**
 * Multi-vendor search. Each page holds `items[k]` songs of vendor `vendors_id[k]` (default 1 each), in
 * vendors_id order, each vendor paged through its own ranking. A song listed by several vendors (same name
 * and singer) is kept only for `keep_vendor` (default: the first of vendors_id); the other vendors then
 * claim duplicates in vendors_id order. Filter 4 (pitch line) only applies to vendors 0/1.
 */
export const searchPlus: ExtendedCommand = {
  name: "/search/plus",
  vendors: "multi",
  run({ sim, app, session, params, plus }) {
    const keyword = keywordParam(params);
    const p = page(params, false);
    const codes = filter(params, [1, 2, 3, 4]);
    const enabled = app.vendors ?? ALL_VENDORS;
    const rawVendors = optIntList(params, "vendors_id");
    const vendors: VendorId[] = rawVendors
      ? rawVendors.map((v) => vendorValue("vendors_id", v))
      : ALL_VENDORS.filter((v) => enabled.includes(v));
    if (vendors.length === 0) throw illegal("vendors_id", "must not be empty");
    if (new Set(vendors).size !== vendors.length) throw illegal("vendors_id", "lists a vendor twice");
    for (const v of vendors)
      if (!enabled.includes(v)) throw new VendorError(1017052, `vendor ${v} not enabled`);
    const counts = optIntList(params, "items") ?? vendors.map(() => 1);
    if (counts.length !== vendors.length) throw illegal("items", "must align 1:1 with vendors_id");
    for (const c of counts)
      if (c < 1 || c > PAGE_SIZE) throw illegal("items", `counts must be 1..${PAGE_SIZE}`);
    const keepRaw = optInt(params, "keep_vendor");
    const keep = keepRaw === undefined ? (vendors[0] as VendorId) : vendorValue("keep_vendor", keepRaw);
    if (!vendors.includes(keep)) throw illegal("keep_vendor", "must be one of vendors_id");

    const key = normalise(keyword);
    if (p > 1 && !plus.hasOpened(session.id, key)) throw new VendorError(1017074);
    if (p === 1) plus.opened(session.id, key);

    const claimed = new Set<number>();
    const perVendor = new Map<VendorId, number[]>();
    for (const v of [keep, ...vendors.filter((x) => x !== keep)]) {
      const vcodes = v === 0 || v === 1 ? codes : codes.filter((c) => c !== 4);
      const own = sim.catalog.search(keyword, v, vcodes).filter((i) => !claimed.has(sim.catalog.nameKey(i)));
      for (const i of own) claimed.add(sim.catalog.nameKey(i));
      perVendor.set(v, own);
    }
    const songs: number[] = [];
    vendors.forEach((v, k) => {
      const n = counts[k] as number;
      songs.push(...(perVendor.get(v) as number[]).slice((p - 1) * n, p * n));
    });
    return { songs: itemsOf(sim.catalog, songs) };
  },
};
