import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { formatSummary, readCpuProfile, summarize } from "./cpuprofile.ts";
import { doctorVerdict } from "./doctor-verdict.ts";

// Profiling recipes over a fixed load, so "where does the time go" is one command and the same command
// before and after a change:
//   run <scenario> [ktv run args...]  `ktv run` under --cpu-prof: one profile per thread (main, every
//                                      worker, the embedded simulator), each summarised
//   mix [publish-path args...]        the publish-path bench (1,000 real-time mixers) under --cpu-prof
//   sim [scenario]                    clinic doctor on `ktv sim` while `ktv run <scenario>` loads it
//                                      (needs `npm run setup:profile`)
//   summarize <dir|file>...           the tables of existing .cpuprofile files
// Options: --out <dir> (default .ktv/profiles/<recipe>-<time>), --top <n> (default 15).
// --cpu-prof rather than clinic flame for the first two: flame profiles the main thread only, and the
// harness's time is in its worker threads.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const KTV = join(ROOT, "scenarios/cli/ktv.ts");
const CLINIC = join(ROOT, ".ktv/tools/node_modules/.bin/clinic");

interface Options {
  recipe: string;
  rest: string[];
  out: string;
  top: number;
}

function parse(argv: string[]): Options {
  const [recipe = "", ...args] = argv;
  let out = "";
  let top = 15;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--out") out = need(args[++i], "--out");
    else if (a === "--top") top = positive(need(args[++i], "--top"), "--top");
    else rest.push(a);
  }
  if (!["run", "mix", "sim", "summarize"].includes(recipe)) {
    fail(`usage: tsx bench/profile/profile.ts run|mix|sim|summarize [args] [--out dir] [--top n]`);
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return { recipe, rest, out: resolve(out || join(ROOT, ".ktv/profiles", `${recipe}-${stamp}`)), top };
}

function need(v: string | undefined, flag: string): string {
  if (v === undefined) fail(`${flag} needs a value`);
  return v;
}

function positive(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) fail(`${flag} must be a positive integer, got ${v}`);
  return n;
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

/**
 * Runs node under --cpu-prof into `<out>/cpu`: every thread writes its own profile. Node refuses --cpu-prof
 * in NODE_OPTIONS, so a command that measures in child processes passes its --cpu-prof flags on itself
 * (bench/mixer/publish-path.ts does).
 */
function profiled(out: string, args: string[]): string {
  const dir = join(out, "cpu");
  mkdirSync(dir, { recursive: true });
  const r = spawnSync(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${dir}`, "--import", "tsx", ...args], {
    cwd: ROOT,
    stdio: "inherit",
  });
  if (r.status !== 0)
    process.stderr.write(`profiled command exited ${r.status ?? r.signal}; summarising anyway\n`);
  return dir;
}

function profilesIn(paths: string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    if (!existsSync(p)) fail(`${p}: no such file or directory`);
    if (statSync(p).isDirectory()) {
      for (const f of readdirSync(p).sort()) if (f.endsWith(".cpuprofile")) files.push(join(p, f));
    } else files.push(p);
  }
  if (files.length === 0) fail(`no .cpuprofile in ${paths.join(", ")}`);
  return files;
}

function printSummaries(paths: string[], top: number): void {
  const summaries = profilesIn(paths).map((file) =>
    summarize(readCpuProfile(file), { file, root: ROOT, top }),
  );
  summaries.sort((a, b) => b.busyMs - a.busyMs);
  for (const s of summaries) process.stdout.write(`\n${formatSummary(s)}\n`);
}

function clinicDoctor(o: Options): void {
  if (!existsSync(CLINIC))
    fail("clinic is not installed here: run `npm run setup:profile` once (needs the npm registry)");
  const scenario = o.rest[0] ?? "smoke";
  mkdirSync(o.out, { recursive: true });
  // clinic starts `ktv sim` on a free port and runs the load command once it listens ($PORT); when the load
  // command exits, clinic stops the simulator and writes its report. NO_INSIGHT: clinic otherwise asks (and
  // on a terminal-less CI machine silently exits) about sending usage analytics.
  const load = `node --import tsx ${KTV} run ${scenario} --target http://127.0.0.1:$PORT --no-report --out ${join(o.out, "results")}`;
  const r = spawnSync(
    CLINIC,
    [
      "doctor",
      "--open=false",
      "--dest",
      o.out,
      "--on-port",
      load,
      "--",
      process.execPath,
      "--import",
      "tsx",
      KTV,
      "sim",
      "--port",
      "0",
      "--data-dir",
      ":memory:",
      "--log-level",
      "warn",
    ],
    { cwd: ROOT, stdio: "inherit", env: { ...process.env, NO_INSIGHT: "1" } },
  );
  if (r.status !== 0) fail(`clinic doctor exited ${r.status ?? r.signal}`);
  for (const f of readdirSync(o.out).filter((n) => n.endsWith(".clinic-doctor.html"))) {
    process.stdout.write(
      `${doctorVerdict(readFileSync(join(o.out, f), "utf8"))}\nreport: ${join(o.out, f)}\n`,
    );
  }
}

// `... | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

const o = parse(process.argv.slice(2));
switch (o.recipe) {
  case "run": {
    const [scenario = "smoke", ...more] = o.rest;
    const dir = profiled(o.out, [
      KTV,
      "run",
      scenario,
      "--no-report",
      "--out",
      join(o.out, "results"),
      ...more,
    ]);
    printSummaries([dir], o.top);
    break;
  }
  case "mix": {
    const args =
      o.rest.length > 0
        ? o.rest
        : [
            "--parts",
            "c",
            "--modes",
            "device",
            "--seconds",
            "4",
            "--attempts",
            "1",
            "--sweep",
            "--max-n",
            "400",
          ];
    printSummaries([profiled(o.out, [join(ROOT, "bench/mixer/publish-path.ts"), ...args])], o.top);
    break;
  }
  case "sim":
    clinicDoctor(o);
    break;
  case "summarize":
    if (o.rest.length === 0) fail("summarize needs a .cpuprofile file or a directory of them");
    printSummaries(o.rest, o.top);
    break;
}
