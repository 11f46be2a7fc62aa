#!/usr/bin/env -S node --import tsx
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { CLI_PARTS } from "./parts.ts";

// One program, one subcommand per job (the parts and why they load lazily: parts.ts).

/**
 * The program for `argv` (process.argv's shape): only the part that registers the command named in argv[2]
 * when there is one, every part otherwise (no argv included).
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command("ktv")
    .description("ktv-harness: simulate, load-test and check online-KTV copyrighted-music clients")
    .showHelpAfterError()
    .exitOverride();
  const name = argv?.[2];
  const one = CLI_PARTS.filter((p) => name !== undefined && p.names.includes(name));
  const parts = one.length > 0 ? one : CLI_PARTS;
  for (const register of await Promise.all(parts.map((p) => p.load()))) register(program);
  return program;
}

/** Usage errors (a missing argument, an unknown option, a bad value) exit 2, as the docs say; commander uses 1. */
export const EXIT_USAGE = 2;

/**
 * The exit code for an error out of parseAsync, after saying what went wrong on stderr when nobody has yet.
 * Order matters: InvalidArgumentError is a CommanderError. Thrown from an action (a --faults file that is missing
 * or not JSON) it arrives here unprinted; commander prints its own parse-time errors and throws a plain
 * CommanderError. A command that chose its exit code (`ktv run`: 99, 105 ...) throws a CommanderError whose code
 * is not commander's.
 */
export function exitCodeOf(e: unknown, err: (text: string) => void): number {
  if (e instanceof InvalidArgumentError) {
    err(`ktv: ${e.message}\n`);
    return EXIT_USAGE;
  }
  if (e instanceof CommanderError) {
    if (e.exitCode !== 0 && e.code.startsWith("commander.")) return EXIT_USAGE;
    return e.exitCode;
  }
  if (e instanceof Error) {
    err(`ktv: ${e.message}\n`);
    return EXIT_USAGE;
  }
  throw e;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await (await buildProgram(argv)).parseAsync(argv);
  } catch (e) {
    process.exit(exitCodeOf(e, (t) => process.stderr.write(t)));
  }
}

// Run directly (`node --import tsx scenarios/cli/ktv.ts`, `npm run ktv`); the `bin` shim (ktv.mjs, reached
// through node_modules/.bin symlinks) calls main itself.
if (process.argv[1]?.endsWith("ktv.ts")) {
  await main(process.argv);
}
