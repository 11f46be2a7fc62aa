import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Simulator } from "../../simulator/app.ts";
import { call, testSimulator } from "../../test/sim.ts";
import { createEngine } from "../engine/engine.ts";
import { DEV_APP_ID, DEV_APP_SIGN } from "../engine/test-fixtures.ts";
import { ZegoUpdateType } from "../engine/types.ts";
import type { PipelineEvent } from "./events.ts";
import { runPipeline } from "./run.ts";
import { billedTo, putFaults, userConfig } from "./test-fixtures.ts";

// The recovery rules against the fault engine and the admin switches of a real simulator. Each test checks
// the result's account (recoveries, errors, billable requests) against the ledger, which must show exactly
// the billable requests the client made.

let sim: Simulator;

beforeAll(async () => {
  sim = await testSimulator();
});
afterEach(async () => {
  await call(sim.url, "POST", "/admin/reset");
});
afterAll(async () => {
  await sim.close();
});

/** The first download is throttled, so an admin action lands while it runs (resumes are not throttled). */
const SLOW_FIRST_DOWNLOAD = { id: "slow", kind: "cdn", first: 1, bandwidth: { bytes_per_sec: 100_000 } };

describe("recovery against the fault engine", () => {
  it("transient errors: backs off and retries; still one billable request", async () => {
    await putFaults(sim.url, [
      { id: "busy", kind: "error", code: 1017097, first: 2, selector: { route: "POST /v1/music/resource" } },
      { id: "flaky", kind: "error", http_status: 503, first: 1, selector: { command: "/search/song" } },
    ]);
    const r = await runPipeline(userConfig(sim.url, "busy"));
    expect(r.ok, JSON.stringify(r.failure)).toBe(true);
    expect(r.recovery.map((a) => [a.rule, a.stage, a.code])).toEqual([
      // A 503's envelope carries 1017098 (network error): the vendor's code is what is recorded.
      ["transient-backoff", "search", 1017098],
      ["transient-backoff", "request", 1017097],
      ["transient-backoff", "request", 1017097],
    ]);
    expect(r.errors).toEqual({ "1017098": 1, "1017097": 2 });
    expect(r.billable_requests).toBe(1);
    expect(await billedTo(sim.url, "busy")).toHaveLength(1);
  });

  it("a singer's publish handshake goes out beside a slow download, not after it", async () => {
    // The first byte of the download waits 400 ms; the stream is announced in the room long before that ends.
    await putFaults(sim.url, [
      { id: "slowfb", kind: "cdn", first: 1, first_byte: { type: "fixed", ms: 400 } },
    ]);
    const fan = createEngine({ appID: DEV_APP_ID, appSign: DEV_APP_SIGN, server: sim.url });
    try {
      const order: string[] = [];
      fan.on("onRoomStreamUpdate", (_room, type) => {
        if (type === ZegoUpdateType.Add) order.push("stream announced");
      });
      expect((await fan.loginRoom("room1", { userID: "fan" })).errorCode).toBe(0);
      const r = await runPipeline(
        userConfig(sim.url, "early", {
          onEvent: (e: PipelineEvent) => {
            // The first bytes of the song (its first progress event), then the clock's start.
            if (e.type === "download" && !order.includes("first bytes")) order.push("first bytes");
            if (e.type === "publishing") order.push("publishing");
          },
        }),
      );
      expect(r.ok, JSON.stringify(r.failure)).toBe(true);
      expect(order).toEqual(["stream announced", "first bytes", "publishing"]);
      expect(r.publish!.packets_sent).toBeGreaterThan(0);
    } finally {
      await fan.destroyEngine();
    }
  });

  it("1017019 on download (expiry fault): requests again once; two billable requests, both on the ledger", async () => {
    await putFaults(sim.url, [{ id: "exp", kind: "expiry", expire_on_use: true, max: 1 }]);
    const r = await runPipeline(userConfig(sim.url, "expiring"));
    expect(r.ok, JSON.stringify(r.failure)).toBe(true);
    expect(r.recovery.map((a) => [a.rule, a.stage, a.code])).toEqual([
      ["expired-rerequest", "download", 1017019],
    ]);
    expect(r.errors).toEqual({ "1017019": 1 });
    expect(r.billable_requests).toBe(2);
    const rows = await billedTo(sim.url, "expiring");
    expect(rows).toHaveLength(2);
    expect(rows.map((row) => row.song_id)).toEqual([r.song!.song_id, r.song!.song_id]);
    expect(rows[1]!.resource_id).toBe(r.song!.resource_id);
  });

  it("1017019 mid-download (admin expire): the cut download is requested again once", async () => {
    await putFaults(sim.url, [SLOW_FIRST_DOWNLOAD]);
    let expiring: Promise<unknown> | null = null;
    const r = await runPipeline(
      userConfig(sim.url, "cut", {
        // The whole-file rules (progressive.test.ts: the same cuts while the song plays).
        prerollMs: null,
        onEvent: (e: PipelineEvent) => {
          if (e.type === "download" && !expiring) {
            expiring = call(sim.url, "POST", `/admin/resources/${encodeURIComponent(e.resource_id)}/expire`);
          }
        },
      }),
    );
    expect(await expiring).toMatchObject({ body: { code: 0 } });
    expect(r.ok, JSON.stringify(r.failure)).toBe(true);
    expect(r.recovery.filter((a) => a.rule === "expired-rerequest")).toHaveLength(1);
    expect(r.billable_requests).toBe(2);
    expect(await billedTo(sim.url, "cut")).toHaveLength(2);
  });

  it("a song revoked mid-download is skipped for the next candidate, with the reason", async () => {
    await putFaults(sim.url, [SLOW_FIRST_DOWNLOAD]);
    let revoking: Promise<unknown> | null = null;
    let firstSong = "";
    const r = await runPipeline(
      userConfig(sim.url, "revoked", {
        // The whole-file rules (progressive.test.ts: the same cuts while the song plays).
        prerollMs: null,
        onEvent: (e: PipelineEvent) => {
          if (e.type === "resource" && !firstSong) firstSong = e.song_id;
          // Revoked once bytes are flowing: the CDN cuts the download, and the resume is refused.
          if (e.type === "download" && !revoking)
            revoking = call(sim.url, "POST", `/admin/songs/${firstSong}/revoke`);
        },
      }),
    );
    expect(await revoking).toMatchObject({ body: { code: 0 } });
    expect(r.ok, JSON.stringify(r.failure)).toBe(true);
    expect(r.skipped).toEqual([{ song_id: firstSong, code: 1017030, reason: "no copyright (revoked)" }]);
    expect(r.recovery.filter((a) => a.rule === "revoked-skip")).toEqual([
      expect.objectContaining({ stage: "download", code: 1017030, song_id: firstSong }),
    ]);
    expect(r.song!.song_id).not.toBe(firstSong);
    // The cut came mid-body: the download resumed once (a backoff) and the resume was refused with 1017030.
    expect(r.recovery.map((a) => [a.rule, a.stage])).toEqual([
      ["transient-backoff", "download"],
      ["revoked-skip", "download"],
    ]);
    // Both songs were requested and billed: the first before its revocation, then the one sung.
    expect(r.billable_requests).toBe(2);
    const rows = await billedTo(sim.url, "revoked");
    expect(rows.map((row) => row.song_id)).toEqual([firstSong, r.song!.song_id]);
  });

  it("a request that got no answer is not repeated: it may have billed", async () => {
    await putFaults(sim.url, [
      { id: "lost", kind: "error", drop: true, first: 1, selector: { route: "POST /v1/music/resource" } },
    ]);
    const r = await runPipeline(userConfig(sim.url, "unanswered"));
    expect(r).toMatchObject({ ok: false, failure: { stage: "request", code: 1017098 } });
    expect([r.billable_requests, r.unconfirmed_requests]).toEqual([0, 1]);
    // Exactly one requestResource reached the vendor: the dropped one (which, here, billed nothing).
    const events = await fetch(`${sim.url}/admin/faults/events`).then((res) => res.text());
    expect(
      events
        .trim()
        .split("\n")
        .filter((l) => l.includes('"lost"')),
    ).toHaveLength(1);
    expect(await billedTo(sim.url, "unanswered")).toHaveLength(0);
  });
});
