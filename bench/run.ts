// `npm run bench [-- --quick] [--only NAME] [--out FILE] [--list]`: every case of bench/cases/index.ts races
// its reference in this run (bench/runner/run.ts), prints the machine, load average and a table, and writes
// reports/bench/latest.json (format: reports/bench-format.ts). `npm run bench:readme` turns that file into
// the README's tables; `npx ktv report --bench reports/bench/latest.json` charts it.
// Exit codes: 0 every case ran (pass, fail or skipped: a missed target is a finding, not a broken run);
// 1 a case errored; 2 usage.

import { CASES } from "./cases/index.ts";
import { parseBenchArgs, USAGE, UsageError } from "./runner/options.ts";
import { peerVersion } from "./runner/peers.ts";
import { runBench } from "./runner/run.ts";

const names = CASES.map((c) => c.name);
let args: ReturnType<typeof parseBenchArgs>;
try {
  args = parseBenchArgs(process.argv.slice(2), names);
} catch (e) {
  if (!(e instanceof UsageError)) throw e;
  console.error(`bench: ${e.message}\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
} else if (args.list) {
  for (const c of CASES) console.log(`${c.name.padEnd(30)} ${c.description}`);
} else {
  const res = await runBench(CASES, args, { log: (l) => console.log(l), peer: peerVersion });
  if (res.cases.some((c) => c.status === "error")) process.exitCode = 1;
}
