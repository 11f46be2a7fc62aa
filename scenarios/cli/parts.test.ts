import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "./ktv.ts";
import { CLI_PARTS } from "./parts.ts";

// ktv.ts loads only the part (parts.ts) whose table entry names the command in argv. A part that registers a command its
// entry does not name would make that command unknown whenever another command's name is given, and vice versa.

describe("ktv's lazily loaded parts", () => {
  it("each part registers exactly the commands its entry names", async () => {
    for (const part of CLI_PARTS) {
      const program = new Command("ktv");
      (await part.load())(program);
      expect(program.commands.map((c) => c.name())).toEqual(part.names);
    }
  });

  it("a named command loads its own part only; help, an unknown command or none loads them all", async () => {
    const names = async (argv: string[]) => (await buildProgram(argv)).commands.map((c) => c.name());
    const all = CLI_PARTS.flatMap((p) => p.names);
    expect(await names(["node", "ktv", "sim", "--port", "0"])).toEqual(["sim"]);
    expect(await names(["node", "ktv", "compare", "a", "b"])).toEqual(["report", "compare"]);
    expect(await names(["node", "ktv", "--help"])).toEqual(all);
    expect(await names(["node", "ktv", "help", "run"])).toEqual(all);
    expect(await names(["node", "ktv", "rnu"])).toEqual(all);
    expect(await names(["node", "ktv"])).toEqual(all);
    expect(await names([])).toEqual(all);
  });
});
