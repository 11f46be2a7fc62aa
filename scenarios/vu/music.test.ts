import { createServer as createHttpServer, request as httpRequest, type Server } from "node:http";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedAgent } from "../../reference/music/http.ts";
import type { Simulator } from "../../simulator/app.ts";
import { DEV_APP } from "../../simulator/options.ts";
import { call, testSimulator } from "../../test/sim.ts";
import { createMusicVu } from "./music.ts";
import type { IterationSpec, Recorder, VuContext } from "./types.ts";

// The music VU's footprint (issue 13: 10,000 per machine at <= 100 KB each): it holds nothing between
// iterations, and its requests go through the thread's bounded undici Agent (a WHATWG fetch per VU had a
// socket and web streams each in flight), with the CDN bytes still counted.

let sim: Simulator;
beforeAll(async () => {
  sim = await testSimulator();
});
afterAll(async () => {
  await sim?.close();
});

function recorder(): Recorder & { counters: Map<string, number>; errors: (number | string)[] } {
  const counters = new Map<string, number>();
  const errors: (number | string)[] = [];
  return {
    counters,
    errors,
    record: () => {},
    add: (c, n = 1) => counters.set(c, (counters.get(c) ?? 0) + n),
    error: (code) => errors.push(code),
    rate: () => {},
    note: () => {},
  };
}

function spec(vu: number): IterationSpec {
  return {
    scenario: "s",
    vu,
    iteration: 0,
    userID: `music-test-${vu}`,
    roomID: `music-test-room-${vu}`,
    seat: { room: vu, slot: 0, role: "singer" },
    listenTo: null,
    masterID: `music-test-${vu}`,
    song: { topID: "8888" },
    resource: { type: 2, quality: 0, vendorId: 0, billingMode: 0 },
    preferShared: false,
    seconds: 1,
    codec: "pcm",
    seed: vu,
    cacheDir: undefined,
  } as IterationSpec;
}

describe("music VU", () => {
  it("downloads through the thread's bounded Agent, counts the CDN bytes, and holds no state of its own", async () => {
    const rec = recorder();
    const ctx: VuContext = {
      target: sim.url,
      appID: DEV_APP.app_id,
      appSign: DEV_APP.app_sign,
      rec,
      client: () => Promise.reject(new Error("the music VU runs no pipeline")),
    };
    const a = createMusicVu(ctx);
    const b = createMusicVu(ctx);
    // Nothing but its two functions: no per-VU client, agent or buffers kept between iterations.
    expect(Object.keys(a).sort()).toEqual(["close", "iteration"]);
    const signal = new AbortController().signal;
    const [ra, rb] = await Promise.all([a.iteration(spec(1), signal), b.iteration(spec(2), signal)]);
    expect([ra.ok, rb.ok], JSON.stringify(rec.errors)).toEqual([true, true]);
    expect(rec.counters.get("songs_started")).toBe(2);
    expect(rec.counters.get("bytes_downloaded")).toBeGreaterThan(0);
    // Every request of both VUs (vendor calls, room login, download) went over the thread's one Agent.
    const origin = new URL(sim.url).origin;
    const stats = (sharedAgent() as unknown as { stats: Record<string, { connected: number }> }).stats;
    expect(stats[origin]?.connected).toBeGreaterThanOrEqual(1);
    await Promise.all([a.close(), b.close()]);
  }, 30_000);

  it("waits before its next iteration while the target does not answer, and not once it does", async () => {
    // A port nothing listens on: every call fails with 1017098 after the client's own retries.
    const dead = await freePort();
    const rec = recorder();
    const waits: number[] = [];
    const ctx: VuContext = {
      target: `http://127.0.0.1:${dead}`,
      appID: DEV_APP.app_id,
      appSign: DEV_APP.app_sign,
      rec,
      client: () => Promise.reject(new Error("the music VU runs no pipeline")),
    };
    const retry = {
      baseMs: 500,
      maxMs: 8_000,
      random: () => 0.5,
      sleep: (ms: number) => {
        waits.push(ms);
        return Promise.resolve();
      },
    };
    const vu = createMusicVu(ctx, retry);
    const signal = new AbortController().signal;
    const first = await vu.iteration(spec(3), signal);
    expect([first.ok, first.code]).toEqual([false, 1017098]);
    await vu.iteration(spec(3), signal);
    expect(waits).toEqual([375]);
    // The target is back: the next iteration waits its turn once more, succeeds, and the one after does not wait.
    const up = createMusicVu({ ...ctx, target: sim.url }, retry);
    await up.iteration(spec(4), signal); // fresh VU: no wait
    expect(waits).toEqual([375]);
    ctx.target = sim.url;
    const ok = await vu.iteration(spec(3), signal);
    expect(ok.ok, JSON.stringify(rec.errors.slice(-3))).toBe(true);
    expect(waits).toEqual([375, 750]);
    await vu.iteration(spec(3), signal);
    expect(waits).toEqual([375, 750]);
  }, 60_000);
});

describe("music VU: a requestResource that got no answer", () => {
  it("counts it as unconfirmed (it may have billed), so the billing check allows its ledger row", async () => {
    // A loopback proxy in front of the simulator that forwards requestResource, lets the simulator bill it, and
    // drops the connection instead of answering: what the client sees when the target is killed mid-request.
    let dropped = 0;
    const proxy: Server = createHttpServer((req, res) => {
      const drop = req.url?.startsWith("/v1/music/resource") === true;
      const up = httpRequest(
        `${sim.url}${req.url}`,
        { method: req.method, headers: req.headers },
        (answer) => {
          if (drop) {
            answer.resume();
            answer.on("end", () => {
              dropped++;
              res.socket?.destroy();
            });
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    try {
      const port = (proxy.address() as { port: number }).port;
      const rec = recorder();
      const ctx: VuContext = {
        target: `http://127.0.0.1:${port}`,
        appID: DEV_APP.app_id,
        appSign: DEV_APP.app_sign,
        rec,
        client: () => Promise.reject(new Error("the music VU runs no pipeline")),
      };
      const user = { ...spec(5), userID: "music-unconfirmed-5" } as IterationSpec;
      const out = await createMusicVu(ctx).iteration(user, new AbortController().signal);
      expect(out.ok).toBe(false);
      expect(dropped).toBeGreaterThanOrEqual(1);
      // Billed by the vendor, never acknowledged to the client: unconfirmed, not billable, and not repeated.
      expect(rec.counters.get("billable_requests") ?? 0).toBe(0);
      expect(rec.counters.get("unconfirmed_requests")).toBe(1);
      const ledger = await call(sim.url, "GET", `/admin/ledger?app_id=${DEV_APP.app_id}`);
      const rows = (ledger.body.data?.rows ?? ledger.body.rows) as { user_id: string }[];
      expect(rows.filter((r) => r.user_id === "music-unconfirmed-5")).toHaveLength(1);
    } finally {
      await new Promise((r) => proxy.close(r));
    }
  }, 60_000);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}
