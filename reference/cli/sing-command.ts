import { resolve } from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import type { PipelineConfig, SongChoice } from "../pipeline/config.ts";
import { runPipeline } from "../pipeline/run.ts";
import { parseSinger } from "../scoring/singer.ts";
import { SingProgress } from "./progress.ts";
import { failureLine, singJson, summary } from "./report.ts";

// `ktv sing`: the reference pipeline from the command line against a running simulator. Progress on stderr
// (a bar and a live mixing line on a terminal), the result on stdout (a summary, or one JSON object with
// --json). Exit codes: 0 sung, 1 the run failed (one line on stderr says why), 2 bad arguments, 130 Ctrl-C.

/** The simulator's development app (wire-api.md "Auth"), used when no credentials are given. */
export const DEV_APP_ID = 1000000001;
export const DEV_APP_SIGN = "0123456789abcdef".repeat(4);

const TYPES: Record<string, number> = { song: 0, accompaniment: 1, clip: 2, segment: 3 };
const QUALITIES: Record<string, number> = { normal: 0, hq: 1, sq: 2 };

interface SingOptions {
  target: string;
  room: string;
  song?: string;
  songId?: string;
  chart?: string;
  seconds?: number;
  out?: string;
  json?: boolean;
  user?: string;
  appId: number;
  appSign?: string;
  token?: string;
  type: string;
  quality: string;
  vendor: number;
  seed: number;
  startMs: number;
  shared?: boolean;
  listen?: string[];
  score?: boolean;
  scoringLevel?: number;
  pitchInterval?: number;
  singer?: string;
}

function intIn(name: string, min: number, max: number) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be an integer`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be in ${min}..${max}`);
    return n;
  };
}

function secondsArg(v: string): number {
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || !(n > 0) || n > 24 * 3600) {
    throw new InvalidArgumentError("--seconds must be a positive number of seconds");
  }
  return n;
}

function urlArg(v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new InvalidArgumentError(
      `--target must be a URL like http://127.0.0.1:7400, got ${JSON.stringify(v)}`,
    );
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new InvalidArgumentError("--target must be http(s)");
  return v.replace(/\/+$/, "");
}

function singerArg(v: string): string {
  try {
    parseSinger(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return v;
}

function oneOf(name: string, table: Record<string, number>) {
  return (v: string): string => {
    if (!(v in table))
      throw new InvalidArgumentError(`${name} must be one of ${Object.keys(table).join(", ")}`);
    return v;
  };
}

function songChoice(o: SingOptions): SongChoice | string {
  const given = [o.song, o.songId, o.chart].filter((v) => v !== undefined);
  if (given.length !== 1) return "give one of --song <query>, --song-id <id> or --chart <top id>";
  if (o.song !== undefined) return o.song === "" ? "--song must not be empty" : { query: o.song };
  if (o.songId !== undefined) return { songID: o.songId };
  return { topID: o.chart! };
}

export function registerSingCommand(program: Command): void {
  program
    .command("sing")
    .description(
      "sing against a running simulator: search -> requestResource -> download -> load -> mix accompaniment + voice -> publish",
    )
    .requiredOption("--target <url>", "the simulator's base URL, e.g. http://127.0.0.1:7400", urlArg)
    .requiredOption("--room <id>", "room to log in to")
    .option("--song <query>", "search for this and sing the first singable result")
    .option("--song-id <id>", "sing this song id")
    .option("--chart <topId>", "sing the top song of this chart (/top/song top_id)")
    .option("--seconds <n>", "seconds of audio to publish (default: the whole song)", secondsArg)
    .option("--out <file.wav>", "write what was published: 48 kHz stereo 16-bit WAV")
    .option("--json", "print the results, stage timings (ttfa_ms ...) included, as one JSON object")
    .option("--user <id>", "user id (default: ktv-<pid>)")
    .option("--app-id <n>", "app id (default: the dev app)", intIn("--app-id", 1, 0xffffffff), DEV_APP_ID)
    .addOption(
      new Option("--app-sign <hex>", "the app's 64-hex app sign (default: the dev app's)").conflicts("token"),
    )
    .option("--token <token04>", "log in with a token04 for --user instead of the app sign")
    .option("--type <type>", "accompaniment, clip, segment or song", oneOf("--type", TYPES), "accompaniment")
    .option("--quality <q>", "normal, hq or sq", oneOf("--quality", QUALITIES), "normal")
    .option("--vendor <n>", "vendor id 0, 1, 2 or 4", intIn("--vendor", 0, 4), 0)
    .option("--seed <n>", "seed of the synthetic voice", intIn("--seed", 0, 0xffffffff), 1)
    .option("--start-ms <n>", "song position to start at", intIn("--start-ms", 0, 24 * 3_600_000), 0)
    .option("--shared", "try getSharedResource first (a second singer in a room)")
    .option("--listen <streamIds...>", "also play these streams of the room")
    .option(
      "--score",
      "score the synthetic singer against the pitch line (startScore); the result carries the scores",
    )
    .option(
      "--scoring-level <n>",
      "setScoringLevel 0 (hardest) .. 4 (default)",
      intIn("--scoring-level", 0, 4),
    )
    .option(
      "--pitch-interval <ms>",
      "pitchValueInterval, ms (default 50)",
      intIn("--pitch-interval", 10, 60_000),
    )
    .option(
      "--singer <profile>",
      "the synthetic singer: in-tune, off:<cents>, late:<ms> or silent",
      singerArg,
    )
    .action(async function (this: Command, o: SingOptions) {
      const song = songChoice(o);
      if (typeof song === "string") this.error(`error: ${song}`, { exitCode: 2, code: "ktv.sing.usage" });
      if (o.token === undefined && o.appSign === undefined && o.appId !== DEV_APP_ID) {
        this.error(`error: app ${o.appId} needs --app-sign or --token (only the dev app has a default)`, {
          exitCode: 2,
          code: "ktv.sing.usage",
        });
      }
      const out = o.out ? resolve(o.out) : null;
      const progress = new SingProgress(process.stderr);
      const config: PipelineConfig = {
        target: o.target,
        appID: o.appId,
        ...(o.token !== undefined ? { token: o.token } : { appSign: o.appSign ?? DEV_APP_SIGN }),
        roomID: o.room,
        userID: o.user ?? `ktv-${process.pid}`,
        song: song as SongChoice,
        vendorID: o.vendor,
        resourceType: TYPES[o.type]!,
        quality: QUALITIES[o.quality]!,
        preferShared: o.shared === true,
        listen: o.listen ?? [],
        startPositionMs: o.startMs,
        seed: o.seed,
        ...(o.score || o.scoringLevel !== undefined || o.pitchInterval !== undefined
          ? {
              scoring: {
                ...(o.scoringLevel !== undefined ? { level: o.scoringLevel } : {}),
                ...(o.pitchInterval !== undefined ? { pitchValueInterval: o.pitchInterval } : {}),
              },
            }
          : {}),
        ...(o.singer !== undefined ? { singers: [o.singer] } : {}),
        ...(o.seconds !== undefined ? { seconds: o.seconds } : {}),
        ...(out ? { outPath: out } : {}),
        onEvent: progress.onEvent,
      };
      const ac = new AbortController();
      const interrupt = () => ac.abort(new Error("interrupted"));
      process.once("SIGINT", interrupt);
      let result: Awaited<ReturnType<typeof runPipeline>>;
      try {
        result = await runPipeline(config, ac.signal);
      } catch (err) {
        // Only an invalid configuration rejects: the options above should have caught it.
        this.error(`error: ${err instanceof Error ? err.message : String(err)}`, {
          exitCode: 2,
          code: "ktv.sing.usage",
        });
      } finally {
        process.off("SIGINT", interrupt);
        progress.finish();
      }
      process.stdout.write(o.json ? `${JSON.stringify(singJson(result, out))}\n` : summary(result, out));
      if (result.failure) {
        process.stderr.write(`ktv sing: ${failureLine(result, o.target)}\n`);
        process.exitCode = 1;
      } else if (result.aborted) {
        process.exitCode = 130;
      }
    });
}
