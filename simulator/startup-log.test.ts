import { describe, expect, it } from "vitest";
import { StartupLog } from "./startup-log.ts";

describe("StartupLog", () => {
  it("holds lines until open(), writes the first line before them, then passes lines through", () => {
    const out: string[] = [];
    const log = new StartupLog({ write: (t: string) => out.push(t) });
    log.write("a\n");
    log.write("b\n");
    expect(out).toEqual([]);
    log.open("first\n");
    log.write("c\n");
    expect(out).toEqual(["first\n", "a\n", "b\n", "c\n"]);
  });

  it("open() without a first line (start-up failed) still lets every held line out", () => {
    const out: string[] = [];
    const log = new StartupLog({ write: (t: string) => out.push(t) });
    log.write("why it failed\n");
    log.open();
    expect(out).toEqual(["why it failed\n"]);
  });
});
