// Search runs over distinct strings, not songs: a million songs share a few hundred thousand titles and
// singer names. Each distinct (lowercased) string has a posting list of its songs, most popular first, and
// the answer is taken tier by tier (exact > prefix > substring), each tier by popularity:
// - exact: one dictionary lookup;
// - prefix: a range of the sorted dictionary, merged by popularity with a heap (no full sort);
// - substring: candidates from a bigram index when the keyword is selective; for broad keywords (one
//   letter, common bigrams) a walk down the popularity order that stops once the page budget is filled;
//   a scan of all strings only when neither applies.
// Every path gives the same, exact ranking (search.test.ts checks it against brute force).

const SEP = "\n";
/** Strategy knobs; the defaults suit every catalog size. Tests lower them to force each code path. */
export interface SearchTuning {
  /** Broad substring walks give up after this many songs and fall back to the exact scan. */
  walkBudget: number;
  /** The bigram index answers when its candidate list is at most this long (default: an eighth of all strings). */
  maxCandidates?: number;
}

const DEFAULT_TUNING: SearchTuning = { walkBudget: 200_000 };

export interface SearchSource {
  /** Titles and singer names (original case); equal strings after lowercasing share one entry. */
  titles: readonly string[];
  singers: readonly string[];
  /** Per song: title and singer pool index. */
  songTitle: Uint32Array;
  songSinger: Uint32Array;
  /** Song indexes from most to least popular. */
  byRank: Uint32Array;
  rankOf: Uint32Array;
}

/** Decides whether a song may appear in a result (vendor, filters, revocation). */
export type Accept = (index: number) => boolean;

export class SearchIndex {
  private readonly dict = new Map<string, number>();
  private readonly display: string[] = [];
  private readonly keys: string[];
  /** Dictionary ids in lexicographic order of their keys: prefix matches are one contiguous range. */
  private readonly sorted: Uint32Array;
  private readonly bigrams: BigramIndex;
  private readonly text: string;
  private readonly starts: Uint32Array;
  private readonly postStart: Uint32Array;
  private readonly postings: Uint32Array;
  private readonly titleDict: Uint32Array;
  private readonly singerDict: Uint32Array;
  /** Title and singer dictionary ids in popularity order: the broad-keyword walk reads them sequentially. */
  private readonly titleByRank: Uint32Array;
  private readonly singerByRank: Uint32Array;
  private readonly src: SearchSource;
  private readonly tuning: SearchTuning;

  constructor(src: SearchSource, tuning: SearchTuning = DEFAULT_TUNING) {
    this.src = src;
    this.tuning = tuning;
    const intern = (s: string): number => {
      const key = s.toLowerCase();
      let id = this.dict.get(key);
      if (id === undefined) {
        id = this.display.length;
        this.dict.set(key, id);
        this.display.push(s);
      }
      return id;
    };
    this.titleDict = Uint32Array.from(src.titles, intern);
    this.singerDict = Uint32Array.from(src.singers, intern);
    const keys = [...this.dict.keys()];
    this.keys = keys;
    // The default sort compares UTF-16 code units, the same order as `<` in prefixIds, and runs natively.
    this.sorted = Uint32Array.from([...keys].sort(), (k) => this.dict.get(k) as number);
    this.bigrams = new BigramIndex(keys, tuning.maxCandidates ?? Math.max(256, keys.length >>> 3));
    this.text = keys.join(SEP);
    this.starts = new Uint32Array(keys.length + 1);
    let off = 0;
    keys.forEach((k, d) => {
      this.starts[d] = off;
      off += k.length + SEP.length;
    });
    this.starts[keys.length] = off;

    // CSR posting lists, filled in popularity order so each list is already sorted by rank.
    const n = src.songTitle.length;
    const count = new Uint32Array(keys.length + 1);
    for (let i = 0; i < n; i++) {
      const a = this.titleOf(i);
      const b = this.singerOf(i);
      count[a] = (count[a] as number) + 1;
      if (b !== a) count[b] = (count[b] as number) + 1;
    }
    this.postStart = new Uint32Array(keys.length + 1);
    for (let d = 0; d < keys.length; d++)
      this.postStart[d + 1] = (this.postStart[d] as number) + (count[d] as number);
    this.postings = new Uint32Array(this.postStart[keys.length] as number);
    const fill = this.postStart.slice(0, keys.length);
    this.titleByRank = new Uint32Array(n);
    this.singerByRank = new Uint32Array(n);
    for (let r = 0; r < n; r++) {
      const i = src.byRank[r] as number;
      const a = this.titleOf(i);
      const b = this.singerOf(i);
      this.titleByRank[r] = a;
      this.singerByRank[r] = b;
      this.postings[fill[a] as number] = i;
      fill[a] = (fill[a] as number) + 1;
      if (b !== a) {
        this.postings[fill[b] as number] = i;
        fill[b] = (fill[b] as number) + 1;
      }
    }
  }

  get distinctStrings(): number {
    return this.display.length;
  }

  /** Same value for two songs exactly when their (lowercased) name and singer are equal. */
  nameKey(songTitle: number, songSinger: number): number {
    return (this.titleDict[songTitle] as number) * 0x200000 + (this.singerDict[songSinger] as number);
  }

  /**
   * Up to `limit` songs accepted by `accept`: exact matches of the song or singer name first, then prefix,
   * then substring matches, each tier by popularity.
   */
  search(keyword: string, accept: Accept, limit: number): number[] {
    const q = normalise(keyword);
    const out: number[] = [];
    if (q === "") return out;
    const seen = new Set<number>();
    const exact = this.dict.get(q);
    if (exact !== undefined) this.mergeInto([exact], accept, limit, out, seen);
    if (out.length < limit) this.mergeInto(this.prefixIds(q, exact), accept, limit, out, seen);
    if (out.length < limit) {
      const cands = this.bigrams.candidates(q);
      if (cands) this.mergeInto(this.substringOf(q, cands), accept, limit, out, seen);
      else if (!this.walkSubstrings(q, accept, limit, out, seen)) {
        this.mergeInto(this.scanSubstrings(q, Number.POSITIVE_INFINITY), accept, limit, out, seen);
      }
    }
    return out;
  }

  /** Suggestion strings (original case): exact and prefix matches, then substring matches, by popularity. */
  tips(keyword: string, accept: Accept, limit: number): string[] {
    const q = normalise(keyword);
    if (q === "") return [];
    const exact = this.dict.get(q);
    const out: string[] = [];
    const head = this.prefixIds(q, exact);
    if (exact !== undefined) head.unshift(exact);
    this.bestInto(head, accept, limit, out);
    if (out.length < limit) {
      const cands = this.bigrams.candidates(q);
      this.bestInto(cands ? this.substringOf(q, cands) : this.scanSubstrings(q, 5000), accept, limit, out);
    }
    return out;
  }

  private titleOf(i: number): number {
    return this.titleDict[this.src.songTitle[i] as number] as number;
  }

  private singerOf(i: number): number {
    return this.singerDict[this.src.songSinger[i] as number] as number;
  }

  /** Ids of the strings starting with q (other than q itself): a binary search, then a short walk. */
  private prefixIds(q: string, exact: number | undefined): number[] {
    const keys = this.keys;
    const sorted = this.sorted;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((keys[sorted[mid] as number] as string) < q) lo = mid + 1;
      else hi = mid;
    }
    const out: number[] = [];
    for (let k = lo; k < sorted.length; k++) {
      const d = sorted[k] as number;
      if (!(keys[d] as string).startsWith(q)) break;
      if (d !== exact) out.push(d);
    }
    return out;
  }

  /** Candidates that contain q other than at the start. */
  private substringOf(q: string, cands: Uint32Array): number[] {
    const out: number[] = [];
    for (let k = 0; k < cands.length; k++) {
      const d = cands[k] as number;
      if ((this.keys[d] as string).indexOf(q) > 0) out.push(d);
    }
    return out;
  }

  /** Every string containing q other than at the start, by one pass of indexOf over the joined strings. */
  private scanSubstrings(q: string, max: number): number[] {
    const out: number[] = [];
    const text = this.text;
    const starts = this.starts;
    let pos = text.indexOf(q);
    while (pos !== -1 && out.length < max) {
      let lo = 0;
      let hi = starts.length - 2;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if ((starts[mid] as number) <= pos) lo = mid;
        else hi = mid - 1;
      }
      // A string whose first hit is at its start is a prefix match (that tier is already taken).
      if (pos !== starts[lo]) out.push(lo);
      pos = text.indexOf(q, starts[lo + 1] as number);
    }
    return out;
  }

  /**
   * Substring tier by walking songs from the most popular down, for keywords too broad for the bigram index:
   * it stops as soon as the limit is reached. False (nothing added) when the budget runs out first.
   */
  private walkSubstrings(
    q: string,
    accept: Accept,
    limit: number,
    out: number[],
    seen: Set<number>,
  ): boolean {
    const n = this.src.byRank.length;
    const memo = new Int8Array(this.keys.length); // 0 unknown, 1 substring match, -1 not
    const isSub = (d: number) => {
      let m = memo[d] as number;
      if (m === 0) {
        m = (this.keys[d] as string).indexOf(q) > 0 ? 1 : -1;
        memo[d] = m;
      }
      return m === 1;
    };
    const found: number[] = [];
    const need = limit - out.length;
    const budget = Math.min(n, this.tuning.walkBudget);
    let r = 0;
    const titles = this.titleByRank;
    const singers = this.singerByRank;
    for (; r < budget && found.length < need; r++) {
      if (!isSub(titles[r] as number) && !isSub(singers[r] as number)) continue;
      const i = this.src.byRank[r] as number;
      if (!seen.has(i) && accept(i)) found.push(i);
    }
    if (found.length < need && r < n) return false;
    for (const i of found) {
      seen.add(i);
      out.push(i);
    }
    return true;
  }

  /** Appends the display strings of `ids` by the rank of their best accepted song. */
  private bestInto(ids: number[], accept: Accept, limit: number, out: string[]): void {
    const scored: { d: number; rank: number }[] = [];
    for (const d of ids) {
      const rank = this.bestRank(d, accept);
      if (rank >= 0) scored.push({ d, rank });
    }
    scored.sort((a, b) => a.rank - b.rank || a.d - b.d);
    for (const s of scored) {
      if (out.length >= limit) return;
      out.push(this.display[s.d] as string);
    }
  }

  /** Rank of the most popular accepted song under dictionary string d (-1: none within a short walk). */
  private bestRank(d: number, accept: Accept): number {
    const end = Math.min(this.postStart[d + 1] as number, (this.postStart[d] as number) + 64);
    for (let k = this.postStart[d] as number; k < end; k++) {
      const i = this.postings[k] as number;
      if (accept(i)) return this.src.rankOf[i] as number;
    }
    return -1;
  }

  /** k-way merge of the strings' posting lists by rank (binary heap of list cursors). */
  private mergeInto(ids: number[], accept: Accept, limit: number, out: number[], seen: Set<number>): void {
    if (ids.length === 0) return;
    const cur = new Uint32Array(ids.length);
    const end = new Uint32Array(ids.length);
    const heap: number[] = [];
    const rankOf = this.src.rankOf;
    const key = (h: number) => rankOf[this.postings[cur[h] as number] as number] as number;
    const down = (k: number) => {
      const n = heap.length;
      for (;;) {
        const l = 2 * k + 1;
        if (l >= n) return;
        const r = l + 1;
        const c = r < n && key(heap[r] as number) < key(heap[l] as number) ? r : l;
        if (key(heap[c] as number) >= key(heap[k] as number)) return;
        const t = heap[c] as number;
        heap[c] = heap[k] as number;
        heap[k] = t;
        k = c;
      }
    };
    ids.forEach((d, h) => {
      cur[h] = this.postStart[d] as number;
      end[h] = this.postStart[d + 1] as number;
      if ((cur[h] as number) < (end[h] as number)) heap.push(h);
    });
    for (let k = (heap.length >>> 1) - 1; k >= 0; k--) down(k);
    while (heap.length > 0 && out.length < limit) {
      const h = heap[0] as number;
      const i = this.postings[cur[h] as number] as number;
      if (!seen.has(i) && accept(i)) {
        seen.add(i);
        out.push(i);
      }
      cur[h] = (cur[h] as number) + 1;
      if ((cur[h] as number) >= (end[h] as number)) {
        const last = heap.pop() as number;
        if (heap.length > 0) heap[0] = last;
      }
      down(0);
    }
  }
}

/** Case-insensitive, whitespace-trimmed; a separator inside the keyword can never match. */
export function normalise(keyword: string): string {
  const q = keyword.trim().toLowerCase();
  return q.includes(SEP) ? "" : q;
}

/**
 * For each bigram (pair of UTF-16 units), the ascending ids of the strings containing it. Every string
 * containing a keyword contains the keyword's rarest bigram, so that list is a complete candidate set.
 */
class BigramIndex {
  private readonly slotOf = new Map<number, number>();
  private readonly start: Uint32Array;
  private readonly ids: Uint32Array;
  /** Beyond this many candidates the popularity walk is cheaper: give up. */
  private readonly maxCandidates: number;

  constructor(keys: readonly string[], maxCandidates: number) {
    this.maxCandidates = maxCandidates;
    const lists: number[][] = [];
    for (let d = 0; d < keys.length; d++) {
      const k = keys[d] as string;
      for (let j = 0; j + 1 < k.length; j++) {
        const code = k.charCodeAt(j) * 65536 + k.charCodeAt(j + 1);
        const slot = this.slotOf.get(code);
        if (slot === undefined) {
          this.slotOf.set(code, lists.length);
          lists.push([d]);
        } else {
          const list = lists[slot] as number[];
          // A string counts once per bigram even when the bigram repeats inside it; ids arrive ascending.
          if (list[list.length - 1] !== d) list.push(d);
        }
      }
    }
    this.start = new Uint32Array(lists.length + 1);
    for (let s = 0; s < lists.length; s++)
      this.start[s + 1] = (this.start[s] as number) + (lists[s] as number[]).length;
    this.ids = new Uint32Array(this.start[lists.length] as number);
    for (let s = 0; s < lists.length; s++) this.ids.set(lists[s] as number[], this.start[s] as number);
  }

  /** Strings that may contain q (ascending ids); null when q is too short or too common to narrow. */
  candidates(q: string): Uint32Array | null {
    if (q.length < 2) return null;
    let best: Uint32Array | null = null;
    for (let j = 0; j + 1 < q.length; j++) {
      const slot = this.slotOf.get(q.charCodeAt(j) * 65536 + q.charCodeAt(j + 1));
      if (slot === undefined) return new Uint32Array(0);
      const list = this.ids.subarray(this.start[slot] as number, this.start[slot + 1] as number);
      if (!best || list.length < best.length) best = list;
    }
    return best && best.length <= this.maxCandidates ? best : null;
  }
}
