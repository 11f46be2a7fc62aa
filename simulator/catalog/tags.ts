import type { VendorId } from "../../protocol/enums.ts";
import { drawFloat, hash3 } from "./prng.ts";
import type { TagGroup } from "./types.ts";
import { TAG_GROUPS, type TagGroupKey } from "./words.ts";

// Tags are "slots" (group, tag) shared by every vendor; each vendor exposes a subset of groups under its own
// ids, the way different content providers label the same kind of tag differently. Vendor 0 matches the
// spec's example: group "5" is 场景 and tag "587" is 学习.

const GROUP_KEYS = Object.keys(TAG_GROUPS) as TagGroupKey[];
const SLOT_BASE: Record<TagGroupKey, number> = {} as Record<TagGroupKey, number>;
let slots = 0;
for (const g of GROUP_KEYS) {
  SLOT_BASE[g] = slots;
  slots += TAG_GROUPS[g].tags.length;
}
export const TAG_SLOTS = slots;
export const slotOf = (g: TagGroupKey, k: number) => SLOT_BASE[g] + k;

interface VendorTagLayout {
  groups: { key: TagGroupKey; id: string }[];
  tagId: (groupId: string, k: number) => string;
}

const LAYOUT: Record<VendorId, VendorTagLayout> = {
  0: {
    groups: [
      { key: "language", id: "1" },
      { key: "style", id: "2" },
      { key: "mood", id: "3" },
      { key: "era", id: "4" },
      { key: "scene", id: "5" },
    ],
    tagId: (g, k) => `${g}${80 + k}`,
  },
  1: {
    groups: [
      { key: "scene", id: "11" },
      { key: "style", id: "12" },
      { key: "mood", id: "13" },
      { key: "language", id: "14" },
      { key: "era", id: "15" },
    ],
    tagId: (g, k) => String(Number(g) * 1000 + 100 + k),
  },
  2: {
    groups: [
      { key: "style", id: "21" },
      { key: "scene", id: "22" },
      { key: "language", id: "23" },
      { key: "mood", id: "24" },
    ],
    tagId: (g, k) => String(2000 + (Number(g) - 20) * 100 + k),
  },
  4: {
    groups: [
      { key: "language", id: "41" },
      { key: "style", id: "42" },
      { key: "scene", id: "43" },
    ],
    tagId: (g, k) => `${g}${String(k).padStart(2, "0")}`,
  },
};

/** A vendor's /tag/list groups and a map from its tag ids to slots. */
export function vendorTags(vendor: VendorId): { groups: TagGroup[]; slotById: Map<string, number> } {
  const l = LAYOUT[vendor];
  const slotById = new Map<string, number>();
  const groups = l.groups.map(({ key, id }) => ({
    group_id: id,
    group_name: TAG_GROUPS[key].name,
    tags: TAG_GROUPS[key].tags.map((name, k) => {
      const tag_id = l.tagId(id, k);
      slotById.set(tag_id, slotOf(key, k));
      return { tag_id, tag_name: name };
    }),
  }));
  return { groups, slotById };
}

const L_TAGS = 12;
const STYLE_BY_GENRE: Record<number, number> = { 20: 0, 22: 3, 3: 5, 23: 8, 2: 9 };
/** Styles no genre maps to (rock, folk, rap, gufeng, jazz): drawn for songs whose genres name none. */
const OTHER_STYLES = [1, 2, 4, 6, 7];

/**
 * Tag slots of one song. Language follows the title's script, style follows the genres, mood, era and
 * scene are drawn; the era and mood slots also drive vendor 2's themed charts.
 */
export function songTagSlots(
  seed: number,
  work: number,
  zhTitle: boolean,
  genres: readonly number[],
  out: number[],
): number[] {
  out.length = 0;
  // Draws read in order from one stream; no closures or allocation on this start-up path (tsx wraps every
  // arrow function in a naming helper, which is costly per song).
  const base = hash3(seed, work, L_TAGS);
  let n = 0;
  const lang = zhTitle
    ? drawFloat(base, n++) < 0.85
      ? 0
      : 1
    : drawFloat(base, n++) < 0.9
      ? 2
      : drawFloat(base, n++) < 0.5
        ? 3
        : 4;
  out.push(slotOf("language", lang));
  let styled = false;
  for (const g of genres) {
    const s = STYLE_BY_GENRE[g];
    if (s !== undefined && !out.includes(slotOf("style", s))) {
      out.push(slotOf("style", s));
      styled = true;
    }
  }
  if (!styled)
    out.push(slotOf("style", OTHER_STYLES[Math.floor(drawFloat(base, n++) * OTHER_STYLES.length)] as number));
  if (drawFloat(base, n++) < 0.6)
    out.push(slotOf("mood", Math.floor(drawFloat(base, n++) * TAG_GROUPS.mood.tags.length)));
  // Eras skew recent, like a streaming catalog.
  const e = drawFloat(base, n++);
  out.push(slotOf("era", e < 0.04 ? 0 : e < 0.12 ? 1 : e < 0.27 ? 2 : e < 0.5 ? 3 : e < 0.78 ? 4 : 5));
  if (drawFloat(base, n++) < 0.7) {
    const a = Math.floor(drawFloat(base, n++) * 10);
    out.push(slotOf("scene", a));
    if (drawFloat(base, n++) < 0.3)
      out.push(slotOf("scene", (a + 1 + Math.floor(drawFloat(base, n++) * 9)) % 10));
  }
  return out;
}
