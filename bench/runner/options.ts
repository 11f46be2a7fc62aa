// `npm run bench -- [--quick] [--only NAME[,NAME]] [--out FILE] [--list]`: the runner's command line. Every
// problem is a UsageError (exit 2 with one line), never a half-run.

import { parseArgs } from "node:util";

export const DEFAULT_OUT = "reports/bench/latest.json";
/** Where a partial run (--only) writes by default: it must not replace the whole run the README is made from. */
export const ONLY_OUT = "reports/bench/only.json";

export const USAGE =
  "usage: npm run bench -- [--quick] [--only NAME[,NAME...]] [--out FILE] [--list]\n" +
  "  --quick   the same cases with fewer, shorter rounds (1-2 minutes on a quiet machine; footprints at 1,000 VUs)\n" +
  "  --only    run only these cases (repeatable or comma-separated; --list shows the names)\n" +
  `  --out     where to write the results (default ${DEFAULT_OUT}, with --only ${ONLY_OUT}); '-' writes none\n` +
  "  --list    print the case names and exit";

export class UsageError extends Error {
  override name = "UsageError";
}

export interface BenchArgs {
  quick: boolean;
  /** Case names to run, in registry order; undefined = all. */
  only: string[] | undefined;
  /** Results file, or null for none. */
  out: string | null;
  list: boolean;
  help: boolean;
}

export function parseBenchArgs(argv: readonly string[], caseNames: readonly string[]): BenchArgs {
  let values: { quick?: boolean; only?: string[]; out?: string; list?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: "boolean" },
        only: { type: "string", multiple: true },
        out: { type: "string" },
        list: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  let only: string[] | undefined;
  if (values.only) {
    const asked = values.only.flatMap((o) => o.split(",")).map((o) => o.trim());
    const unknown = asked.filter((n) => !caseNames.includes(n));
    if (unknown.length > 0 || asked.some((n) => n === "")) {
      throw new UsageError(
        `--only: no case named ${unknown.map((n) => JSON.stringify(n)).join(", ") || '""'}; the cases are: ${caseNames.join(", ")}`,
      );
    }
    only = caseNames.filter((n) => asked.includes(n));
  }
  if (values.out === "") throw new UsageError("--out needs a file name (or '-' for none)");
  return {
    quick: values.quick ?? false,
    only,
    out: values.out === "-" ? null : (values.out ?? (only ? ONLY_OUT : DEFAULT_OUT)),
    list: values.list ?? false,
    help: values.help ?? false,
  };
}
