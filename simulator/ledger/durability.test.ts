import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LineChild, listeningUrl } from "../../test/child.ts";
import { call } from "../../test/sim.ts";
import { createCatalog } from "../catalog/index.ts";
import { DEV_APP } from "../options.ts";
import { openLedger } from "./sqlite-ledger.ts";

// Acceptance: a row acknowledged to the client survives SIGKILL of the process right after the ack. Both
// children are plain `node --import tsx` processes (not npx/tsx wrappers), so the pid we SIGKILL is the
// process holding the ledger, not a launcher that would leave it running.

let dir: string;
let child: LineChild | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ktv-durability-"));
});
afterEach(async () => {
  if (child && child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill("SIGKILL");
  child = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe("ledger durability under SIGKILL", () => {
  it("a child that appended exactly N acknowledged rows, killed without closing, leaves exactly those N", async () => {
    const N = 200;
    child = new LineChild(["simulator/ledger/durability-child.ts", dir, String(N), "stop"]);
    const acked: number[] = [];
    while (acked.length < N) acked.push(Number(await child.nextLine(20_000)));
    await child.kill();
    const l = openLedger(dir);
    expect(l.count()).toBe(N);
    expect(l.rows({ limit: N + 10 }).map((r) => r.id)).toEqual(acked);
    l.close();
  });

  it("killed mid-stream: every acknowledged row is there and the ledger is a gap-free prefix", async () => {
    const N = 300;
    child = new LineChild(["simulator/ledger/durability-child.ts", dir, String(N), "continue"]);
    const acked: number[] = [];
    while (acked.length < N) acked.push(Number(await child.nextLine(20_000)));
    await child.kill();
    const l = openLedger(dir);
    const ids = l.rows({ limit: 10_000 }).map((r) => r.id);
    // The child may have committed a few more rows before the signal landed, never fewer.
    expect(ids.length).toBeGreaterThanOrEqual(N);
    expect(ids.slice(0, N)).toEqual(acked);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
    l.close();
  });
});

describe("simulator durability under SIGKILL", () => {
  it("N successful requestResource calls acknowledged by `ktv sim` are N ledger rows after SIGKILL", async () => {
    const N = 25;
    const seed = 7;
    child = new LineChild([
      "scenarios/cli/ktv.ts",
      "sim",
      "--port",
      "0",
      "--seed",
      String(seed),
      "--data-dir",
      dir,
      "--catalog-size",
      "2000",
      "--log-level",
      "warn",
    ]);
    const base = await listeningUrl(child);
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    // Same seed, same catalog: pick a song the child will sell, without trusting any of its list routes.
    const catalog = createCatalog(seed, 2000);
    let songId: string | undefined;
    let vendorId = 0;
    for (let i = 0; i < catalog.size && !songId; i++) {
      const s = catalog.at(i);
      if (s.item.copyright.recording === 1) {
        songId = s.item.song_id;
        vendorId = s.item.vendor_id;
      }
    }
    expect(songId).toBeDefined();

    const app = { "x-app-id": String(DEV_APP.app_id), "x-app-sign": DEV_APP.app_sign };
    const init = await call(base, "POST", "/v1/music/init", {
      headers: app,
      body: { user_id: "durable-user" },
    });
    expect(init.body.code).toBe(0);
    const headers = { ...app, "x-session": init.body.data.session as string };
    const resourceIds: string[] = [];
    for (let i = 0; i < N; i++) {
      const r = await call(base, "POST", "/v1/music/resource", {
        headers,
        body: { song_id: songId, resource_type: 0, billing_mode: 0, vendor_id: vendorId },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.code, JSON.stringify(r.body)).toBe(0);
      resourceIds.push(r.body.data.resources[0].resource_id);
    }
    // The Nth 200 is in hand: kill now, before any graceful shutdown could flush anything.
    await child.kill();

    const l = openLedger(dir);
    const rows = l.rows({ limit: 1000 });
    expect(rows).toHaveLength(N);
    expect(rows.map((r) => r.resource_id)).toEqual(resourceIds);
    expect(rows.every((r) => r.user_id === "durable-user" && r.song_id === songId)).toBe(true);
    expect(l.totals()).toEqual({
      billable: N,
      by_mode: { "0": N },
      by_vendor: { [String(vendorId)]: N },
      by_app: { [String(DEV_APP.app_id)]: N },
    });
    l.close();
  });
});
