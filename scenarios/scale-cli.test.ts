import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// `ktv run --time-scale / --load-scale` as a user types them (the bin shim): the short form's plan, said on
// stderr. (One spawn only: each costs seconds of CI; out-of-range factors are scale.test.ts's.)
const root = fileURLToPath(new URL("..", import.meta.url));
const ktv = (...args: string[]) =>
  spawnSync(process.execPath, [join(root, "scenarios/cli/ktv.mjs"), ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });

describe("ktv run --time-scale / --load-scale", () => {
  it("plans the compressed, lighter scenario and says so", () => {
    const r = ktv("run", "expiry-storm", "--time-scale", "0.1", "--load-scale", "0.5", "--plan");
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ scenario: "expiry-storm", duration_ms: 12_000, max_vus: 4 });
    expect(r.stderr).toContain("ktv run: time scale ×0.1: expiry-storm's timeline");
    expect(r.stderr).toContain("ktv run: load scale ×0.5");
  });
});
