import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseBenchArgs } from "../runner/options.ts";
import { PEERS } from "../runner/peers.ts";
import { CASES } from "./index.ts";

// The registry as `npm run bench` sees it: names --only can take, bars the runner can judge, peers it knows how
// to install, and the README naming every case (nothing here runs a case: that is the benchmark's job).

describe("bench case registry", () => {
  const names = CASES.map((c) => c.name);

  it("names are unique kebab-case, and --only accepts each", () => {
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) {
      expect(n).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(parseBenchArgs(["--only", n], names).only).toEqual([n]);
    }
  });

  it("every case has a positive target, a unit, a reference, sane rounds and only installable peers", () => {
    for (const c of CASES) {
      expect(c.target, c.name).toBeGreaterThan(0);
      expect(c.unit, c.name).not.toBe("");
      expect(c.referenceName, c.name).not.toBe("");
      for (const p of [...(c.peers ?? []), ...(c.optionalPeers ?? [])]) expect(PEERS).toContain(p);
      if (c.rounds) {
        expect(c.rounds.quick, c.name).toBeGreaterThanOrEqual(1);
        expect(c.rounds.full, c.name).toBeGreaterThanOrEqual(c.rounds.quick);
      }
    }
  });

  it("the README's Benchmarks section names every case, and setup:bench installs every peer", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("## Benchmarks"), readme.indexOf("<!-- bench:begin"));
    for (const n of names) expect(section, n).toContain(`\`${n}\``);
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    for (const p of PEERS) expect(pkg.scripts["setup:bench"]).toContain(p);
    expect(pkg.scripts.bench).toBe("tsx bench/run.ts");
    expect(pkg.scripts.test).not.toContain("bench");
  });
});
