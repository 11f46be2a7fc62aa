import { describe, expect, it } from "vitest";
import { VENDOR_ROUTES, vendorRouteIndex } from "../../protocol/vendor-routes.ts";
import { ATTEMPT_ERROR, ATTEMPT_NO_ANSWER, ATTEMPT_OK } from "../../reference/music/transport.ts";
import { MetricSet } from "../metrics/set.ts";
import { VendorRouteMeter } from "../metrics/vendor-routes.ts";
import { parseVendorCounts, vendorRouteCheck, vendorRouteLines } from "./vendor-routes.ts";

const SEARCH = vendorRouteIndex("/v1/music/extended", "/search/song");
const DOWNLOAD = vendorRouteIndex("/v1/music/download/z_1_2", undefined);

describe("vendor route names", () => {
  it("name paths and commands the same on both sides; admin and media are not vendor routes", () => {
    expect(VENDOR_ROUTES[SEARCH]).toBe("/search/song");
    expect(VENDOR_ROUTES[DOWNLOAD]).toBe("download");
    expect(vendorRouteIndex("/v1/music/download/:resource_id", undefined)).toBe(DOWNLOAD);
    expect(VENDOR_ROUTES[vendorRouteIndex("/v1/music/extended", "/nope")]).toBe(
      "sendExtendedRequest (other command)",
    );
    expect(vendorRouteIndex("/v1/music/extended", 42)).toBe(vendorRouteIndex("/v1/music/extended", "/x"));
    for (const p of ["/admin/ledger", "/metrics", "/v1/media", "/healthz"])
      expect(vendorRouteIndex(p, undefined)).toBe(-1);
  });
});

describe("VendorRouteMeter", () => {
  it("counts attempts, errors and unanswered per route and moves them into a MetricSet at each drain", () => {
    const m = new VendorRouteMeter();
    m.record(SEARCH, ATTEMPT_OK, 4);
    m.record(SEARCH, ATTEMPT_ERROR, 6);
    m.record(SEARCH, ATTEMPT_NO_ANSWER, 10_000);
    m.record(DOWNLOAD, ATTEMPT_OK, 120);
    m.record(-1, ATTEMPT_OK, 1);
    m.record(VENDOR_ROUTES.length, ATTEMPT_OK, 1);
    const set = new MetricSet();
    m.drainTo(set);
    expect(set.counter("vendor_requests{route:/search/song}")).toBe(3);
    expect(set.counter("vendor_request_errors{route:/search/song}")).toBe(2);
    expect(set.counter("vendor_requests_unanswered{route:/search/song}")).toBe(1);
    expect(set.counter("vendor_requests{route:download}")).toBe(1);
    expect(set.trends.get("vendor_request_ms{route:/search/song}")!.totalCount).toBe(3);
    expect(set.trends.get("vendor_request_ms{route:/search/song}")!.maxValue).toBe(10_000_000);
    // Drained: a second drain adds nothing.
    const again = new MetricSet();
    m.drainTo(again);
    expect(again.empty).toBe(true);
    // Through the worker's snapshot, as the runner merges it.
    m.record(SEARCH, ATTEMPT_OK, 5);
    const worker = new MetricSet();
    m.drainTo(worker);
    set.merge(worker.drain());
    const lines = vendorRouteLines(set, 2);
    expect(lines.map((l) => l.route)).toEqual(["/search/song", "download"]);
    expect(lines[0]).toMatchObject({ requests: 4, rate_per_s: 2, errors: 2, unanswered: 1, max_ms: 10_000 });
    expect(lines[0]!.p50_ms).toBeCloseTo(5, 1);
  });
});

const line = (route: string, requests: number, unanswered = 0) => ({
  route,
  requests,
  rate_per_s: 0,
  errors: unanswered,
  unanswered,
  p50_ms: 1,
  p95_ms: 1,
  p99_ms: 1,
  max_ms: 1,
});

describe("vendorRouteCheck", () => {
  const before = new Map([["/search/song", 7]]);
  const strict = { exclusive: true, ownClient: false };

  it("passes when each route's vendor count equals the attempts", () => {
    const after = new Map([
      ["/search/song", 17],
      ["download", 3],
    ]);
    const c = vendorRouteCheck([line("/search/song", 10), line("download", 3)], before, after, strict);
    expect(c.ok, c.detail).toBe(true);
    expect(c.data).toMatchObject({ routes: { "/search/song": { client: 10, simulator: 10 } } });
  });

  it("allows unanswered attempts either way, but no fewer vendor answers than the clients received", () => {
    const l = [line("download", 5, 2)];
    for (const sim of [3, 4, 5])
      expect(vendorRouteCheck(l, new Map(), new Map([["download", sim]]), strict).ok).toBe(true);
    const low = vendorRouteCheck(l, new Map(), new Map([["download", 2]]), strict);
    expect(low.ok).toBe(false);
    expect(low.detail).toContain("download: the vendor answered 2, fewer than the 3 answers");
  });

  it("fails on requests the clients never counted when the simulator was the run's own", () => {
    const c = vendorRouteCheck(
      [line("/search/song", 1)],
      new Map(),
      new Map([
        ["/search/song", 1],
        ["getLrcLyric", 4],
      ]),
      strict,
    );
    expect(c.ok).toBe(false);
    expect(c.detail).toContain("getLrcLyric: the vendor counted 4, the clients made 0 attempts");
    // A shared simulator: maybe another client's.
    const shared = vendorRouteCheck(
      [line("/search/song", 1)],
      new Map(),
      new Map([
        ["/search/song", 1],
        ["getLrcLyric", 4],
      ]),
      { exclusive: false, ownClient: false },
    );
    expect(shared.ok).toBe(true);
    expect(shared.detail).toContain("maybe other clients'");
    // A client module of its own reports nothing: said, not failed.
    const own = vendorRouteCheck([], new Map(), new Map([["getLrcLyric", 4]]), {
      exclusive: true,
      ownClient: true,
    });
    expect(own.ok).toBe(true);
    expect(own.detail).toContain("mismatch");
  });

  it("says when the simulator's counts could not be read", () => {
    const c = vendorRouteCheck([line("download", 1)], new Error("GET /metrics: HTTP 404"), new Map(), strict);
    expect(c).toMatchObject({ ok: true, data: { checked: false } });
    expect(c.detail).toBe("not checked: GET /metrics: HTTP 404");
  });
});

describe("parseVendorCounts", () => {
  it("sums a route's series over status and ignores other metrics", () => {
    const text = [
      "# HELP ktv_vendor_requests_total Vendor requests",
      'ktv_vendor_requests_total{route="/search/song",status="200"} 12',
      'ktv_vendor_requests_total{route="/search/song",status="503"} 3',
      'ktv_vendor_requests_total{route="download",status="206"} 2',
      'ktv_requests_total{route="/v1/music/init",method="POST",status="200",code="0"} 9',
    ].join("\n");
    expect(Object.fromEntries(parseVendorCounts(text))).toEqual({ "/search/song": 15, download: 2 });
  });
});
