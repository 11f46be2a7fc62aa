import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { routesTable } from "../simulator/ops/routes-table.ts";

describe("README", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

  it("lists every route the simulator serves (regenerate with `npx tsx simulator/ops/routes-table.ts`)", async () => {
    const table = await routesTable();
    for (const line of table.split("\n").slice(2)) {
      const [, method, path] = line.split("|").map((s) => s.trim());
      expect(readme, `${method} ${path} missing from README`).toContain(`| ${method} | ${path} |`);
    }
  });

  it("names the two commands and the test command .ci/run runs", () => {
    expect(readme).toContain("npm start");
    expect(readme).toContain("npm test");
    const ci = readFileSync(new URL("../.ci/run", import.meta.url), "utf8");
    expect(ci).toMatch(/^npm test\b/m);
  });
});
