// A measurement aid, run by hand: what the VUs of a worker hold, from two V8 heap snapshots taken at two VU
// counts (bench/harness/vu-memory.ts --snapshot). Groups every node by what made it (an object's constructor,
// a closure's function name, "(string)", an array buffer's backing store...) and prints the groups whose shallow
// size grew the most between the snapshots, divided by the VUs added: bytes and objects per added VU.
// Shallow sizes, not retained ones: a retained size needs the dominator tree, and per-VU growth shows as the
// objects themselves multiplying, which shallow sizes show directly.
//
//   npx tsx bench/harness/heap-diff.ts a.heapsnapshot nA b.heapsnapshot nB [--top 40]

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] }; node_count: number };
  nodes: number[];
  strings: string[];
}

interface Group {
  bytes: number;
  count: number;
}

/** Shallow bytes and node counts by "type: name". */
export function groups(path: string): Map<string, Group> {
  const s = JSON.parse(readFileSync(path, "utf8")) as Snapshot;
  const f = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const width = f.length;
  const iType = f.indexOf("type");
  const iName = f.indexOf("name");
  const iSize = f.indexOf("self_size");
  const out = new Map<string, Group>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType]!]!;
    let name = s.strings[s.nodes[i + iName]!]!;
    // Strings, numbers and code by their kind only: their "names" are their contents.
    if (type === "string" || type === "concatenated string" || type === "sliced string") name = "";
    else if (type === "number" || type === "code" || type === "hidden") name = "";
    else if (name.length > 60) name = `${name.slice(0, 57)}...`;
    const key = `${type}: ${name}`;
    const g = out.get(key) ?? { bytes: 0, count: 0 };
    g.bytes += s.nodes[i + iSize]!;
    g.count++;
    out.set(key, g);
  }
  return out;
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { top: { type: "string", default: "40" } },
});
if (positionals.length !== 4) {
  console.error("usage: heap-diff.ts a.heapsnapshot nA b.heapsnapshot nB [--top 40]");
  process.exit(2);
}
const [pa, na, pb, nb] = positionals as [string, string, string, string];
const a = groups(pa);
const b = groups(pb);
const dn = Number(nb) - Number(na);
const rows = [...new Set([...a.keys(), ...b.keys()])].map((k) => {
  const x = a.get(k) ?? { bytes: 0, count: 0 };
  const y = b.get(k) ?? { bytes: 0, count: 0 };
  return { k, bytes: (y.bytes - x.bytes) / dn, count: (y.count - x.count) / dn };
});
rows.sort((p, q) => q.bytes - p.bytes);
const total = (g: Map<string, Group>) => [...g.values()].reduce((t, x) => t + x.bytes, 0);
console.log(
  `${pa} (${na} VUs): ${(total(a) / 1048576).toFixed(1)} MB; ${pb} (${nb} VUs): ${(total(b) / 1048576).toFixed(1)} MB; ${((total(b) - total(a)) / dn / 1024).toFixed(1)} KB per added VU`,
);
console.log("bytes/VU  objects/VU  type: name");
for (const r of rows.slice(0, Number(values.top))) {
  console.log(`${r.bytes.toFixed(0).padStart(8)}  ${r.count.toFixed(1).padStart(10)}  ${r.k}`);
}
