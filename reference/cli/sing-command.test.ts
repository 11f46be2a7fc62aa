import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProgram } from "../../scenarios/cli/ktv.ts";
import type { Simulator } from "../../simulator/app.ts";
import { call, testSimulator } from "../../test/sim.ts";
import { WavFileReader } from "../mixer/wav-reader.ts";
import { scratchDir } from "../pipeline/test-fixtures.ts";

// `ktv sing` as a user runs it: a separate process against a simulator running here, judged by its exit code,
// stdout and stderr.

const KTV = fileURLToPath(new URL("../../scenarios/cli/ktv.ts", import.meta.url));
let sim: Simulator;
const tmp = scratchDir("ktv-sing-cli-");

beforeAll(async () => {
  sim = await testSimulator();
});
afterAll(async () => {
  await sim.close();
  tmp.remove();
});

function ktv(
  args: string[],
  timeoutMs = 20_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", KTV, ...args], {
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
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.on("error", reject);
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("ktv sing", () => {
  it("--json: sings, writes the WAV, prints one JSON object with the stage timings", async () => {
    const out = `${tmp.dir}/cli.wav`;
    const r = await ktv([
      "sing",
      "--target",
      sim.url,
      "--room",
      "cli-room",
      "--song",
      "love",
      "--type",
      "clip",
      "--seconds",
      "1",
      "--user",
      "cli-user",
      "--out",
      out,
      "--json",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const j = JSON.parse(lines[0]!);
    expect(j).toMatchObject({ ok: true, user_id: "cli-user", room_id: "cli-room", via: "request", out });
    for (const k of ["login_ms", "search_ms", "request_ms", "download_ms", "load_ms", "ttfa_ms"]) {
      expect(typeof j[k], k).toBe("number");
    }
    expect(j.ttfa_ms).toBeGreaterThan(j.download_ms);
    expect(j.billable_requests).toBe(1);
    expect(j.publish_seconds).toBe(1);
    expect(j.mix_lateness_ms.p99).toBeGreaterThanOrEqual(0);
    const ledger = await call(sim.url, "GET", "/admin/ledger");
    expect(
      ledger.body.data.rows.filter((row: { user_id: string }) => row.user_id === "cli-user"),
    ).toHaveLength(1);
    const wav = new WavFileReader(out);
    expect([wav.sampleRate, wav.channels, wav.frames]).toEqual([48_000, 2, 48_000]);
    wav.close();
    // Not a terminal: stage lines on stderr, no redrawn bar.
    expect(r.stderr).toContain("download");
    expect(r.stderr).not.toContain("\r");
  });

  it("--score --json: carries the scores of the chosen singer; --singer silent scores 0", async () => {
    const sing = (singer: string) =>
      ktv(
        [
          "sing",
          "--target",
          sim.url,
          "--room",
          "cli-score",
          "--song",
          "love",
          "--type",
          "clip",
          // The clip's first notes come a few seconds in: start there and sing 6 s of them.
          "--start-ms",
          "5000",
          "--seconds",
          "6",
          "--user",
          `cli-score-${singer.replace(/\W/g, "")}`,
          "--score",
          "--scoring-level",
          "3",
          "--singer",
          singer,
          "--json",
        ],
        45_000,
      );
    const [inTune, silent] = await Promise.all([sing("in-tune"), sing("silent")]);
    expect(inTune.code, inTune.stderr).toBe(0);
    expect(silent.code, silent.stderr).toBe(0);
    const a = JSON.parse(inTune.stdout).score;
    const b = JSON.parse(silent.stdout).score;
    expect(a).toMatchObject({ singer: "in-tune", level: 3, pitch_value_interval_ms: 50 });
    expect(a.lines_scored).toBeGreaterThan(2);
    expect(a.full).toBeGreaterThan(0);
    expect(a.total).toBeGreaterThan(0);
    expect(a.average).toBeGreaterThanOrEqual(85);
    expect(b).toMatchObject({ singer: "silent", total: 0, average: 0 });
  });

  it("bad input: a clear one-line error and a non-zero exit", async () => {
    const gone = await testSimulator();
    const deadUrl = gone.url;
    await gone.close();
    const base = ["sing", "--room", "r", "--seconds", "1", "--type", "clip"];
    const [noSong, unreachable, wrongSign] = await Promise.all([
      ktv([...base, "--target", sim.url, "--song", "zzqqxxjj-nothing"]),
      ktv([...base, "--target", deadUrl, "--song", "love"]),
      ktv([...base, "--target", sim.url, "--song", "love", "--app-sign", "e".repeat(64)]),
    ]);
    const lastLine = (s: string) => s.trim().split("\n").at(-1)!;
    expect(noSong.code).toBe(1);
    expect(lastLine(noSong.stderr)).toBe(
      'ktv sing: no song for "zzqqxxjj-nothing" can be used as an accompaniment clip (1017034)',
    );
    expect(unreachable.code).toBe(1);
    expect(lastLine(unreachable.stderr)).toMatch(
      /^ktv sing: cannot reach the simulator at http:\/\/127\.0\.0\.1:\d+: .*\(1002030\)/,
    );
    expect(wrongSign.code).toBe(1);
    expect(lastLine(wrongSign.stderr)).toBe(
      "ktv sing: the app credentials were refused: app sign wrong (1001005)",
    );
  });

  it("refuses bad arguments before running anything", async () => {
    const refusal = async (args: string[]) => {
      const program = await buildProgram();
      let err = "";
      program.commands
        .find((c) => c.name() === "sing")!
        .configureOutput({
          writeErr: (s) => {
            err += s;
          },
          writeOut: () => {},
        });
      try {
        await program.parseAsync(["node", "ktv", "sing", ...args]);
      } catch (e) {
        return { code: (e as { exitCode?: number }).exitCode, first: err.split("\n")[0] };
      }
      return { code: 0, first: err };
    };
    const ok = ["--target", "http://127.0.0.1:1", "--room", "r"];
    expect(await refusal(["--target", "not a url", "--room", "r", "--song", "x"])).toEqual({
      code: 1,
      first: expect.stringContaining('--target must be a URL like http://127.0.0.1:7400, got "not a url"'),
    });
    expect(await refusal([...ok, "--song", "x", "--seconds", "-3"])).toMatchObject({ code: 1 });
    expect(await refusal([...ok, "--song", "x", "--type", "duet"])).toMatchObject({
      first: expect.stringContaining("--type must be one of song, accompaniment, clip, segment"),
    });
    expect(await refusal(ok)).toEqual({
      code: 2,
      first: "error: give one of --song <query>, --song-id <id> or --chart <top id>",
    });
    expect(await refusal([...ok, "--song", "x", "--song-id", "1"])).toMatchObject({ code: 2 });
    expect(await refusal([...ok, "--song", "x", "--app-id", "42"])).toMatchObject({
      code: 2,
      first: expect.stringContaining("app 42 needs --app-sign or --token"),
    });
    expect(await refusal([...ok, "--song", "x", "--singer", "sharp"])).toMatchObject({
      code: 1,
      first: expect.stringContaining("singer: expected in-tune"),
    });
    expect(await refusal([...ok, "--song", "x", "--scoring-level", "5"])).toMatchObject({
      code: 1,
      first: expect.stringContaining("--scoring-level must be in 0..4"),
    });
    expect(await refusal([...ok, "--song", "x", "--app-sign", "a", "--token", "b"])).toMatchObject({
      first: expect.stringContaining("cannot be used with option '--token"),
    });
  });
});
