import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// reference/README.md sends partners to code lines and tests. This keeps those pointers true: a link's line
// must define what the link names, and a quoted test name must exist in the test file it is quoted with.

const dir = new URL("./", import.meta.url);
const readme = readFileSync(new URL("README.md", dir), "utf8");
const read = (path: string) => readFileSync(new URL(path, dir), "utf8");

describe("reference/README.md", () => {
  it("every code link points at the line that defines what it names", () => {
    const links = [...readme.matchAll(/\[`([^`\]]+)`[^\]]*\]\(([\w./-]+\.ts)#L(\d+)\)/g)];
    expect(links.length).toBeGreaterThan(15);
    for (const [, name, path, line] of links) {
      const lines = read(path!).split("\n");
      const identifier = name!.split(/[.,\s]/).at(-1)!;
      expect(lines[Number(line) - 1], `${name} -> ${path}:${line}`).toContain(identifier);
    }
  });

  it("every quoted test exists in the file it is quoted with", () => {
    const cites = [...readme.matchAll(/`([\w/-]+\.test\.ts)` ((?:"[^"]+"(?:, )?)+)/g)];
    expect(cites.length).toBeGreaterThan(10);
    for (const [, file, quoted] of cites) {
      expect(existsSync(new URL(file!, dir)), file).toBe(true);
      const source = read(file!);
      for (const [, title] of quoted!.matchAll(/"([^"]+)"/g)) {
        const stem = title!.replace(/(…|\.\.\.)$/, "");
        expect(source, `${file}: "${title}"`).toContain(stem);
      }
    }
  });
});
