import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProgram, exitCodeOf } from "../../scenarios/cli/ktv.ts";
import type { Simulator } from "../../simulator/app.ts";
import { manualClock } from "../../simulator/clock.ts";
import { type AppConfig, DEV_APP } from "../../simulator/options.ts";
import { testSimulator } from "../../test/sim.ts";
import { ServerApiCallError, ServerApiClient } from "./client.ts";

// The reference server-API client and `ktv server-api` against the real simulator over loopback: typed
// answers, the skew correction and the QPS retry meeting the server's real rules, and the command as a user
// runs it (a separate process, judged by exit code, stdout and stderr).

const LIMITED: AppConfig = {
  app_id: 1000000002,
  app_sign: "fedcba9876543210".repeat(4),
  token_secret: "fedcba9876543210fedcba9876543210",
  server_api_qps: 2,
};
const KTV = fileURLToPath(new URL("../../scenarios/cli/ktv.ts", import.meta.url));
const clock = manualClock(1_765_000_000_000);
let sim: Simulator;
let live: Simulator;

beforeAll(async () => {
  [sim, live] = await Promise.all([testSimulator({ apps: [DEV_APP, LIMITED], clock }), testSimulator()]);
});
afterAll(() => Promise.all([sim.close(), live.close()]));

const client = (o: Partial<ConstructorParameters<typeof ServerApiClient>[0]> = {}) =>
  new ServerApiClient({
    baseUrl: sim.url,
    appId: DEV_APP.app_id,
    serverSecret: DEV_APP.token_secret,
    userId: "backend",
    now: () => clock.now(),
    ...o,
  });

describe("ServerApiClient against the simulator", () => {
  it("answers typed Data: tags, then a tag's songs, then their rights", async () => {
    const c = client();
    const tags = await c.call("DescribeTags");
    const tagId = tags.Groups[0]!.Tags[0]!.TagId;
    const songs = await c.call("DescribeTagSongs", { TagId: tagId, Page: 1 });
    expect(songs.Songs.length).toBeGreaterThan(0);
    const ids = songs.Songs.slice(0, 3).map((s) => s.SongId);
    const rights = await c.call("QuerySongsCopyright", { SongsId: ids });
    expect(rights.Copyright.map((r) => r.SongId)).toEqual(ids);
  });

  it("a clock an hour behind is corrected from the 100000004 answer's Date header", async () => {
    const c = client({ now: () => clock.now() - 3_600_000 });
    const r = await c.attempt("DescribeTags");
    expect(r.envelope?.Code).toBe(0);
    expect(r.attempts).toBe(2);
    expect(Math.abs(c.clockOffsetMs - 3_600_000)).toBeLessThan(1000);
    expect((await c.attempt("QueryTips", { Keyword: "lo" })).attempts).toBe(1);
  });

  it("over the QPS it backs off (here: moving the simulator clock) and gets through", async () => {
    clock.set(Math.ceil(clock.now() / 1000) * 1000);
    const waits: number[] = [];
    const c = client({
      appId: LIMITED.app_id,
      serverSecret: LIMITED.token_secret,
      random: () => 0,
      sleep: async (ms) => {
        waits.push(ms);
        clock.advance(ms);
      },
    });
    await c.call("DescribeTags");
    await c.call("DescribeTags");
    const r = await c.attempt("DescribeTags");
    expect(r.envelope?.Code).toBe(0);
    expect(r.attempts).toBeGreaterThan(1);
    expect(waits.length).toBe(r.attempts - 1);
  });

  it("a wrong secret fails at once with 100000005", async () => {
    const c = client({ serverSecret: LIMITED.token_secret });
    const r = await c.attempt("DescribeTags");
    expect(r).toMatchObject({ attempts: 1, envelope: { Code: 100000005 } });
    await expect(c.call("DescribeTags")).rejects.toBeInstanceOf(ServerApiCallError);
  });
});

/** `ktv server-api ...` in this process: exit code, stdout and stderr, as the shell would see them. */
async function ktvHere(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const program = await buildProgram();
  let stdout = "";
  let stderr = "";
  const cmd = program.commands.find((c) => c.name() === "server-api")!;
  cmd.configureOutput({
    writeOut: (s) => {
      stdout += s;
    },
    writeErr: (s) => {
      stderr += s;
    },
  });
  try {
    await program.parseAsync(["node", "ktv", "server-api", ...args]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    return { code: exitCodeOf(e, (t) => (stderr += t)), stdout, stderr };
  }
}

/** The real process once: the shell sees exit 1 for a failing Code. */
function ktvProcess(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", KTV, "server-api", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => {
      stdout += d;
    });
    p.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => p.kill("SIGKILL"), 100_000);
    p.on("error", reject);
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("ktv server-api", () => {
  it("prints Data (exit 0), names a failing Code (exit 1), refuses bad arguments (exit 2)", async () => {
    const ok = await ktvHere(["QueryTips", "--target", live.url, "--param", "Keyword=lo"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(Array.isArray(JSON.parse(ok.stdout).Tips)).toBe(true);
    const bad = await ktvHere([
      "QuerySongsCopyright",
      "--target",
      live.url,
      "--param",
      "SongsId[]=no-such-song",
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toMatch(/QuerySongsCopyright: 320040004 .*no-such-song/);
    const usage = await ktvHere(["DescribeEverything", "--target", live.url]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("DescribeTags");
    const twice = await ktvHere([
      "QueryTips",
      "--target",
      live.url,
      "--param",
      "Keyword=a",
      "--param",
      "Keyword=b",
    ]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain("Keyword[]");
    const json = await ktvHere(["DescribeTags", "--target", live.url, "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ attempts: 1, status: 200, envelope: { Code: 0 } });
  });

  it("as a process: exit 1 and one line on stderr for a non-zero Code", { timeout: 120_000 }, async () => {
    const r = await ktvProcess(["DescribeSongLyric", "--target", live.url, "--param", "SongId=no-such-song"]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^ktv server-api: DescribeSongLyric: 320040004 /);
  });
});
