import type { Command } from "commander";

// One program, one subcommand per job; each part of the product registers its own subcommands here. Each part
// is imported only when its command runs: importing all eight through tsx cost ~2.4 s of CPU per start on this
// machine (`ktv --help`; tsx alone 0.3 s), paid by every `ktv sim`, every `ktv run` and every test that spawns
// the CLI. Help, an unknown command or none loads them all, so help lists every command and commander can
// suggest the nearest name. parts.test.ts holds `names` to what each part really registers.
// (The table lives here, not in ktv.ts: tsx 4 cannot lex a file that has both a shebang line and a dynamic
// import: "Parse error ktv.ts:2:113".)
type Register = (program: Command) => void;

export const CLI_PARTS: readonly { names: readonly string[]; load: () => Promise<Register> }[] = [
  { names: ["sim"], load: async () => (await import("../../simulator/cli.ts")).registerSimCommand },
  {
    names: ["token"],
    load: async () => (await import("../../simulator/auth/token-command.ts")).registerTokenCommand,
  },
  {
    names: ["server-api"],
    load: async () => (await import("../../reference/server-api/command.ts")).registerServerApiCommand,
  },
  {
    names: ["sing"],
    load: async () => (await import("../../reference/cli/sing-command.ts")).registerSingCommand,
  },
  {
    names: ["report", "compare"],
    load: async () => (await import("../../reports/cli.ts")).registerReportCommands,
  },
  { names: ["run"], load: async () => (await import("./run-command.ts")).registerRunCommand },
  { names: ["k6"], load: async () => (await import("../k6-runner/command.ts")).registerK6Command },
  { names: ["merge"], load: async () => (await import("../merge/command.ts")).registerMergeCommand },
];
