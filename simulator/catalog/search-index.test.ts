import { describe, expect, it } from "vitest";
import { Draws, FeistelPermutation } from "./prng.ts";
import { SearchIndex, type SearchSource, type SearchTuning } from "./search-index.ts";

// The index has three ways to find substring matches (bigram candidates, a popularity walk, a full scan);
// each must give exactly the ranking a brute-force pass gives. A small alphabet makes matches plentiful.

const ALPHABET = ["a", "b", "c", "A", "夜", "空", " "];
const d = new Draws(3, 0, 0);
const word = (len: number) => Array.from({ length: len }, () => d.pick(ALPHABET)).join("");
const titles = Array.from({ length: 400 }, () => word(d.int(1, 7)));
const singers = Array.from({ length: 60 }, () => word(d.int(1, 4)));
const N = 3000;
const songTitle = Uint32Array.from({ length: N }, () => d.int(0, titles.length - 1));
const songSinger = Uint32Array.from({ length: N }, () => d.int(0, singers.length - 1));
const perm = new FeistelPermutation(12, 5);
const rankOf = Uint32Array.from({ length: N }, (_, i) => perm.forwardWithin(i, N));
const byRank = new Uint32Array(N);
rankOf.forEach((r, i) => {
  byRank[r] = i;
});
const src: SearchSource = { titles, singers, songTitle, songSinger, byRank, rankOf };
const accept = (i: number) => i % 7 !== 3;

function oracle(q0: string, limit: number): number[] {
  const q = q0.trim().toLowerCase();
  if (q === "") return [];
  const tier = (s: string) => {
    const t = s.toLowerCase();
    return t === q ? 0 : t.startsWith(q) ? 1 : t.includes(q) ? 2 : 3;
  };
  return Array.from({ length: N }, (_, i) => i)
    .filter(accept)
    .map((i) => ({ i, t: Math.min(tier(titles[songTitle[i]!]!), tier(singers[songSinger[i]!]!)) }))
    .filter((x) => x.t < 3)
    .sort((a, b) => a.t - b.t || rankOf[a.i]! - rankOf[b.i]!)
    .slice(0, limit)
    .map((x) => x.i);
}

const keywords = [
  "a",
  "A",
  "b",
  "夜",
  "ab",
  "ba",
  "夜空",
  "a b",
  "abc",
  "cab",
  "空a",
  "aaaa",
  "zz",
  " a ",
  titles[5]!,
  singers[2]!,
];
const tunings: [string, SearchTuning][] = [
  ["default", { walkBudget: 200_000 }],
  ["bigram only", { walkBudget: 0, maxCandidates: Number.MAX_SAFE_INTEGER }],
  ["walk (no bigram)", { walkBudget: 200_000, maxCandidates: -1 }],
  ["scan (no bigram, walk gives up)", { walkBudget: 5, maxCandidates: -1 }],
];

describe("SearchIndex strategies agree with brute force", () => {
  for (const [name, tuning] of tunings) {
    it(name, () => {
      const ix = new SearchIndex(src, tuning);
      for (const q of keywords) {
        for (const limit of [1, 20, 500, N])
          expect(ix.search(q, accept, limit), `${q} / ${limit}`).toEqual(oracle(q, limit));
      }
    });
  }

  it("tips are the same strings whichever path finds substrings", () => {
    const a = new SearchIndex(src, { walkBudget: 200_000, maxCandidates: Number.MAX_SAFE_INTEGER });
    const b = new SearchIndex(src, { walkBudget: 200_000, maxCandidates: -1 });
    for (const q of keywords) expect(a.tips(q, accept, 10)).toEqual(b.tips(q, accept, 10));
  });
});
