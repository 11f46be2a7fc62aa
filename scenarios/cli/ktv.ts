#!/usr/bin/env -S node --import tsx
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { registerReportCommands } from "../../reports/cli.ts";
import { registerTokenCommand } from "../../simulator/auth/token-command.ts";
import { registerSimCommand } from "../../simulator/cli.ts";

// One program, one subcommand per job; each part of the product registers its own subcommands here.
export function buildProgram(): Command {
  const program = new Command("ktv")
    .description("ktv-harness: simulate, load-test and check online-KTV copyrighted-music clients")
    .showHelpAfterError()
    .exitOverride();
  registerSimCommand(program);
  registerTokenCommand(program);
  registerReportCommands(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
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

if (
  import.meta.url === `file://${process.argv[1]}` ||
  process.argv[1]?.endsWith("ktv.ts") ||
  process.argv[1]?.endsWith("ktv.mjs")
) {
  await main(process.argv);
}
