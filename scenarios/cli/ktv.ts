#!/usr/bin/env -S node --import tsx
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { registerSingCommand } from "../../reference/cli/sing-command.ts";
import { registerReportCommands } from "../../reports/cli.ts";
import { registerTokenCommand } from "../../simulator/auth/token-command.ts";
import { registerSimCommand } from "../../simulator/cli.ts";
import { registerRunCommand } from "./run-command.ts";

// One program, one subcommand per job; each part of the product registers its own subcommands here.
export function buildProgram(): Command {
  const program = new Command("ktv")
    .description("ktv-harness: simulate, load-test and check online-KTV copyrighted-music clients")
    .showHelpAfterError()
    .exitOverride();
  registerSimCommand(program);
  registerTokenCommand(program);
  registerSingCommand(program);
  registerReportCommands(program);
  registerRunCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) process.exit(e.exitCode);
    if (e instanceof InvalidArgumentError || e instanceof Error) {
      process.stderr.write(`ktv: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}

// Run directly (`node --import tsx scenarios/cli/ktv.ts`, `npm run ktv`); the `bin` shim (ktv.mjs, reached
// through node_modules/.bin symlinks) calls main itself.
if (process.argv[1]?.endsWith("ktv.ts")) {
  await main(process.argv);
}
