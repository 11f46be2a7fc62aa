import { existsSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findOnPath } from "../runner/peers.ts";
import { nginxConfig, startNginx } from "./nginx.ts";
import { parseWrkOutput, runWrk, wrkScript } from "./wrk.ts";

// The native peers' drivers: wrk's Lua script carries method, headers and body exactly (a script that fails to
// load makes wrk send bare GETs and still exit 0), its summary is read from the JSON line the script prints,
// and nginx serves the very bytes it was given from a private prefix it removes on stop. The real-binary tests
// run where wrk / nginx are installed (npm run setup:bench) and are skipped elsewhere.

describe("wrk script and output", () => {
  it("quotes values so that no text can end the Lua string", () => {
    const s = wrkScript({ method: "POST", headers: { "x-a": "v]]x" }, body: { k: "a]]b]=]c" } });
    expect(s).toContain("wrk.method = [[POST]]");
    expect(s).toContain("wrk.headers[ [[x-a]] ] = [=[v]]x]=]");
    expect(s).toContain('wrk.body = [==[{"k":"a]]b]=]c"}]==]');
    expect(s).toContain('wrk.headers["content-type"] = "application/json"');
  });

  it("a rate paces requests from one shared schedule (wrk's delay()); a bad rate is refused", () => {
    const s = wrkScript({ method: "GET", headers: {}, rate: 250 });
    expect(s).toContain("local interval = 4");
    expect(s).toContain("delay = function()");
    expect(wrkScript({ method: "GET", headers: {} })).not.toContain("delay");
    expect(() => wrkScript({ method: "GET", headers: {}, rate: 0 })).toThrow(RangeError);
  });

  it("a GET without a body sets no body or content type", () => {
    const s = wrkScript({ method: "GET", headers: {} });
    expect(s).not.toContain("wrk.body");
    expect(s).not.toContain("content-type");
  });

  it("reads the summary line: rates per second of the measured duration, errors counted", () => {
    const out = `Running 2s test @ http://x/\n  1 threads\n{"requests":2000,"duration_us":2000000,"bytes":4000000,"non2xx":3,"socket_errors":2,"p50_us":900,"p99_us":4000}\n`;
    expect(parseWrkOutput(out)).toEqual({
      rps: 1000,
      bytes_per_s: 2_000_000,
      p50_us: 900,
      p99_us: 4000,
      non200: 5,
    });
    expect(() => parseWrkOutput("Running 1s test\n")).toThrow(/no summary/);
  });
});

describe.skipIf(!findOnPath("wrk"))("wrk against a real server", () => {
  let server: Server;
  let url: string;
  const seen: { method: string; session: string; type: string; body: string }[] = [];
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        if (seen.length < 50) {
          seen.push({
            method: req.method ?? "",
            session: String(req.headers["x-session"]),
            type: String(req.headers["content-type"]),
            body,
          });
        }
        res.writeHead(req.url === "/missing" ? 404 : 200, { "content-length": 2 });
        res.end("ok");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("sends the method, headers and body of the spec, and counts non-2xx", async () => {
    const body = { command: "/top/song", params: { page: 1 } };
    const r = await runWrk({
      url,
      path: "/x",
      method: "POST",
      body,
      headers: { "x-session": "s1" },
      connections: 2,
      seconds: 1,
    });
    expect(r.rps).toBeGreaterThan(0);
    expect(r.non200).toBe(0);
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) {
      expect(s).toEqual({
        method: "POST",
        session: "s1",
        type: "application/json",
        body: JSON.stringify(body),
      });
    }
    const bad = await runWrk({
      url,
      path: "/missing",
      method: "GET",
      headers: {},
      connections: 1,
      seconds: 1,
    });
    expect(bad.non200).toBeGreaterThan(0);
  });

  it("a paced run offers no more than its rate (closed loop on this server is thousands/s)", async () => {
    const r = await runWrk({
      url,
      path: "/x",
      method: "GET",
      headers: {},
      connections: 4,
      seconds: 1,
      rate: 200,
    });
    expect(r.non200).toBe(0);
    expect(r.rps).toBeGreaterThan(0);
    // A busy machine may send fewer; pacing that works never sends more than the schedule (plus the first
    // request of each connection, which leaves before pacing starts).
    expect(r.rps).toBeLessThanOrEqual(200 * 1.1 + 4);
  });
});

describe("nginx config", () => {
  it("keeps everything under its prefix and listens on loopback only", () => {
    const c = nginxConfig("/p", 8123);
    expect(c).toContain("listen 127.0.0.1:8123;");
    expect(c).toContain("pid /p/nginx.pid;");
    expect(c).toContain("root /p/www;");
    expect(c).toContain("daemon off;");
  });
});

describe.skipIf(!findOnPath("nginx"))("nginx, real", () => {
  it("serves the given bytes and removes its prefix on stop", async () => {
    const bytes = new Uint8Array(300_000).map((_, i) => (i * 31) & 255);
    const n = await startNginx({ "f.bin": bytes });
    try {
      const r = await fetch(`${n.url}/f.bin`);
      expect(r.status).toBe(200);
      expect(Buffer.from(await r.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
    } finally {
      await n.stop();
    }
    expect(existsSync(dirname(n.root))).toBe(false);
  });
});
