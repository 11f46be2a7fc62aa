import { describe, expect, it } from "vitest";
import type { PipelineEvent } from "../pipeline/events.ts";
import { formatBytes, progressBar, SingProgress } from "./progress.ts";

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, out: { isTTY, write: (s: string) => chunks.push(s) } };
}

const mixing = (seconds: number): PipelineEvent => ({
  type: "mixing",
  seconds,
  frames: seconds * 100,
  late_frames: 0,
  lateness_p99_ms: 1.234,
  lateness_max_ms: 3.5,
  cost_p99_us: 240,
  packets_dropped: 0,
});

describe("SingProgress", () => {
  it("on a terminal: a download bar and a mixing line redrawn in place, stage lines in between", async () => {
    const { chunks, out } = sink(true);
    const p = new SingProgress(out);
    p.onEvent({ type: "resource", song_id: "s", resource_id: "z_1", via: "request", size: 2 * 1024 * 1024 });
    p.onEvent({ type: "download", resource_id: "z_1", progress: 0.5 });
    p.onEvent({ type: "stage", stage: "download", ms: 120 });
    p.onEvent(mixing(1));
    p.finish();
    const text = chunks.join("");
    expect(text).toContain(`\r\x1b[2Kdownload ${progressBar(0.5)} 1.0 MB / 2.0 MB`);
    expect(text).toContain(`download ${progressBar(1)}`);
    expect(text).toContain("download  120 ms\n");
    expect(text).toContain(
      "\r\x1b[2Kmixing 1.0 s | lateness p99 1.2 ms max 3.5 ms | late frames 0 | mix p99 240 µs",
    );
    expect(text.endsWith("\n")).toBe(true);
  });

  it("elsewhere: plain lines only, no bar, a mixing line every 5 s of audio", () => {
    const { chunks, out } = sink(false);
    const p = new SingProgress(out);
    p.onEvent({ type: "download", resource_id: "z_1", progress: 0.5 });
    p.onEvent({ type: "stage", stage: "search", ms: 7.25 });
    for (const s of [0.5, 1, 4.5, 5, 6, 10]) p.onEvent(mixing(s));
    p.finish();
    const text = chunks.join("");
    expect(text).not.toContain("\r");
    expect(text).not.toContain("[");
    expect(
      text
        .split("\n")
        .filter((l) => l.startsWith("mixing"))
        .map((l) => l.split(" |")[0]),
    ).toEqual(["mixing 5.0 s", "mixing 10.0 s"]);
    expect(text).toContain("search    7.3 ms\n");
  });

  it("formats sizes and bars", () => {
    expect([formatBytes(512), formatBytes(2048), formatBytes(3_500_000)]).toEqual([
      "512 B",
      "2 KB",
      "3.3 MB",
    ]);
    expect(progressBar(0.25, 8)).toBe("[##......]  25%");
    expect(progressBar(2, 4)).toBe("[####] 100%");
  });
});
