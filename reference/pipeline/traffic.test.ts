import { describe, expect, it } from "vitest";
import { countingFetch, type RetryReport, retryObserver } from "./traffic.ts";

describe("countingFetch", () => {
  it("counts the body bytes of downloads as they are read, and nothing else", async () => {
    const inner = (async (input: string | URL | Request) => {
      const url = String(input);
      if (url.endsWith("/304")) return new Response(null, { status: 304 });
      return new Response(new Uint8Array(url.includes("/download/") ? 5000 : 70), {
        status: url.includes("/download/") ? 206 : 200,
        headers: { etag: '"e"' },
      });
    }) as typeof fetch;
    let bytes = 0;
    const f = countingFetch((n) => {
      bytes += n;
    }, inner);
    const res = await f("http://h/v1/music/download/z_1");
    expect(res.status).toBe(206);
    expect(res.headers.get("etag")).toBe('"e"');
    expect(bytes).toBe(0); // nothing read yet
    expect((await res.arrayBuffer()).byteLength).toBe(5000);
    expect(bytes).toBe(5000);
    await (await f("http://h/v1/music/extended")).arrayBuffer();
    expect((await f("http://h/v1/music/download/304")).status).toBe(304);
    expect(bytes).toBe(5000);
  });
});

describe("retryObserver", () => {
  it("turns the music module's backoff warnings into reports and forwards every log line", () => {
    const reports: RetryReport[] = [];
    const forwarded: string[] = [];
    const log = retryObserver((r) => reports.push(r), {
      warn: (_o, msg) => forwarded.push(msg),
      debug: (_o, msg) => forwarded.push(msg),
    });
    log.warn(
      { path: "/v1/music/resource", attempt: 1, delay_ms: 80, status: 200, code: 1017097 },
      "vendor call failed, retrying",
    );
    log.warn(
      { path: "/v1/music/extended", attempt: 1, delay_ms: 40, status: 503, code: 0 },
      "vendor call failed, retrying",
    );
    log.warn(
      { resource_id: "z", attempt: 2, have: 10, total: 99, why: "HTTP 503 1017097", delay_ms: 200 },
      "download cut, resuming",
    );
    log.warn(
      { resource_id: "z", attempt: 3, why: "body ended at 10 of 99 bytes", delay_ms: 5 },
      "download cut, resuming",
    );
    log.warn({ resource_id: "z", attempt: 6, delay_ms: null }, "download failed");
    log.debug({}, "something");
    expect(reports).toEqual([
      { stage: "/v1/music/resource", code: 1017097, delayMs: 80, detail: "vendor call failed, retrying" },
      { stage: "/v1/music/extended", code: 503, delayMs: 40, detail: "vendor call failed, retrying" },
      { stage: "download", code: 1017097, delayMs: 200, detail: "HTTP 503 1017097" },
      { stage: "download", code: 0, delayMs: 5, detail: "body ended at 10 of 99 bytes" },
    ]);
    expect(forwarded).toHaveLength(6);
  });
});
