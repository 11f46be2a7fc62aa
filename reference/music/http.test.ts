import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryCache } from "./cache.ts";
import { runDownload } from "./download.ts";
import { defaultRequest, fetchRequest, type HttpRequest, undiciRequest } from "./http.ts";
import { retryPolicy } from "./retry.ts";
import { APP_SIGN, envelope, instantRetry } from "./test-fixtures.ts";
import { VendorTransport } from "./transport.ts";

// The transport and the download over a real server on loopback, through both HTTP paths (http.ts): undici's
// request() (the default) must map every failure exactly as WHATWG fetch does, since the retry rules depend on
// it ("once" calls are retried only when nothing was sent). The msw unit tests cover the fetch path's edge
// cases; these prove the undici path equal on the wire.

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server;
let base: string;
let handler: Handler = (_q, r) => r.end();
/** Requests the server saw, by path. */
const seen = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0]!;
    seen.set(path, (seen.get(path) ?? 0) + 1);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const json = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
};

/** A loopback URL nothing listens on: a port just freed (fetch refuses port 9 as a "bad port"). */
async function closedPort(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}`;
}

const PATHS: [string, () => { request: HttpRequest } | { fetch: typeof fetch }][] = [
  ["undici", () => ({ request: undiciRequest() })],
  ["fetch", () => ({ fetch: (u, i) => globalThis.fetch(u, i) })],
];

describe.each(PATHS)("VendorTransport over %s on a real loopback server", (_name, http) => {
  const transport = (over: { timeoutMs?: number; baseUrl?: string } = {}) => {
    const { policy, delays } = instantRetry({ maxAttempts: 3 });
    const t = new VendorTransport({
      baseUrl: over.baseUrl ?? base,
      appId: 1,
      appSign: APP_SIGN,
      retry: policy,
      timeoutMs: over.timeoutMs ?? 2_000,
      ...http(),
    });
    return { t, delays };
  };

  it("sends the auth headers and body, and parses the envelope", async () => {
    let got: { headers: IncomingMessage["headers"]; body: string } | null = null;
    handler = (req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        got = { headers: req.headers, body };
        json(res, 200, envelope(0, { ok: 1 }));
      });
    };
    const { t } = transport();
    const a = await t.call({ method: "POST", path: "/v1/x", body: { a: 1 }, delivery: "once", session: "s" });
    expect(a.envelope).toMatchObject({ code: 0, data: { ok: 1 } });
    expect(got!.body).toBe('{"a":1}');
    expect(got!.headers).toMatchObject({ "x-app-sign": APP_SIGN, "x-session": "s", "x-app-id": "1" });
  });

  it("retries a 503 envelope with its Retry-After, then answers", async () => {
    let n = 0;
    handler = (_req, res) => {
      if (n++ === 0) {
        res.setHeader("retry-after", "2");
        json(res, 503, envelope(1017097));
      } else json(res, 200, envelope(0));
    };
    const { t, delays } = transport();
    expect((await t.call({ method: "GET", path: "/v1/r503", delivery: "once" })).envelope.code).toBe(0);
    expect(delays).toEqual([2000]);
  });

  it("a refused connection sent nothing: even a billable call is retried, then 1017098", async () => {
    const { t, delays } = transport({ baseUrl: await closedPort() });
    await expect(t.call({ method: "POST", path: "/v1/x", body: {}, delivery: "once" })).rejects.toMatchObject(
      {
        code: 1017098,
      },
    );
    expect(delays).toHaveLength(2);
  });

  it("a reset after the request arrived may have billed: a billable call is not retried", async () => {
    seen.delete("/v1/reset");
    handler = (req) => req.socket.destroy();
    const { t, delays } = transport();
    await expect(
      t.call({ method: "POST", path: "/v1/reset", body: {}, delivery: "once" }),
    ).rejects.toMatchObject({ code: 1017098 });
    expect(delays).toEqual([]);
    expect(seen.get("/v1/reset")).toBe(1);
  });

  it("a reset is retried for an idempotent call", async () => {
    seen.delete("/v1/reset-read");
    handler = (req) => req.socket.destroy();
    const { t, delays } = transport();
    await expect(
      t.call({ method: "GET", path: "/v1/reset-read", delivery: "idempotent" }),
    ).rejects.toMatchObject({ code: 1017098 });
    expect(delays).toHaveLength(2);
    expect(seen.get("/v1/reset-read")).toBe(3);
  });

  it("a timeout is no answer (1017098), and a body that is not an envelope is 1017010", async () => {
    handler = (_req, res) => res.writeHead(200); // headers, then silence
    const { t } = transport({ timeoutMs: 100 });
    await expect(t.call({ method: "GET", path: "/v1/slow", delivery: "once" })).rejects.toMatchObject({
      code: 1017098,
    });
    handler = (_req, res) => res.end("<html>");
    await expect(t.call({ method: "GET", path: "/v1/html", delivery: "once" })).rejects.toMatchObject({
      code: 1017010,
    });
  });

  it("the caller's abort rejects with the caller's reason, not a vendor code", async () => {
    handler = () => {}; // never answers
    const { t } = transport();
    const ac = new AbortController();
    const reason = new Error("user left");
    const p = t.call({ method: "GET", path: "/v1/hang", delivery: "idempotent", signal: ac.signal });
    setTimeout(() => ac.abort(reason), 30);
    await expect(p).rejects.toBe(reason);
  });

  it("a download cut mid-body resumes with Range; every byte pulled is counted; the file is exact", async () => {
    const file = Buffer.alloc(300_000);
    for (let i = 0; i < file.length; i++) file[i] = (i * 31) & 0xff;
    let first = true;
    const ranges: string[] = [];
    handler = (req, res) => {
      ranges.push(req.headers.range ?? "");
      const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
      if (m && req.headers["if-range"] === '"e1"') {
        const start = Number(m[1]);
        res.writeHead(206, {
          etag: '"e1"',
          "content-length": file.length - start,
          "content-range": `bytes ${start}-${file.length - 1}/${file.length}`,
        });
        res.end(file.subarray(start));
        return;
      }
      res.writeHead(200, { etag: '"e1"', "content-length": file.length });
      if (first) {
        first = false;
        // 100,000 bytes, then the connection drops.
        res.write(file.subarray(0, 100_000), () => setTimeout(() => req.socket.destroy(), 20));
        return;
      }
      res.end(file);
    };
    let counted = 0;
    const t = new VendorTransport({
      baseUrl: base,
      appId: 1,
      appSign: APP_SIGN,
      onDownloadBytes: (n) => {
        counted += n;
      },
      ...http(),
    });
    const cache = new MemoryCache();
    const key = { vendorID: 0, songID: "s1", resourceType: 2, quality: 0 };
    const out = await runDownload({
      transport: t,
      session: "s",
      resourceID: "r1",
      expectedSize: file.length,
      cache,
      key,
      signal: new AbortController().signal,
      onProgress: () => {},
      retry: retryPolicy(instantRetry().policy),
      idleTimeoutMs: 2_000,
    });
    expect(out.errorCode).toBe(0);
    // Resumed where the cut left it: the first attempt's bytes plus the rest, each counted once.
    expect(ranges).toHaveLength(2);
    expect(ranges[1]).toMatch(/^bytes=[1-9]\d*-$/);
    const resumedAt = Number(/\d+/.exec(ranges[1]!)![0]);
    expect(resumedAt).toBeLessThanOrEqual(100_000);
    expect(counted).toBe(file.length);
    const stored = cache.locate(key);
    expect(stored).not.toBeNull();
    expect(Buffer.compare(Buffer.from(stored!.bytes), file)).toBe(0);
  });

  it("a download's vendor error envelope ends it with the vendor's code", async () => {
    handler = (_req, res) => json(res, 403, envelope(1017030));
    const t = new VendorTransport({ baseUrl: base, appId: 1, appSign: APP_SIGN, ...http() });
    const out = await runDownload({
      transport: t,
      session: "s",
      resourceID: "r2",
      cache: new MemoryCache(),
      key: { vendorID: 0, songID: "s2", resourceType: 2, quality: 0 },
      signal: new AbortController().signal,
      onProgress: () => {},
      retry: retryPolicy(instantRetry().policy),
      idleTimeoutMs: 2_000,
    });
    expect(out.errorCode).toBe(1017030);
  });
});

describe("defaultRequest", () => {
  it("goes through the global fetch once something replaced it (an interceptor), else through undici", async () => {
    handler = (_req, res) => json(res, 200, envelope(0));
    const request = defaultRequest();
    const original = globalThis.fetch;
    const urls: string[] = [];
    globalThis.fetch = (u, i) => {
      urls.push(String(u));
      return original(u, i);
    };
    try {
      const a = await request(`${base}/v1/via-fetch`, {
        method: "GET",
        headers: {},
        signal: AbortSignal.timeout(2_000),
      });
      expect(a.status).toBe(200);
      await a.text();
    } finally {
      globalThis.fetch = original;
    }
    const b = await request(`${base}/v1/via-undici`, {
      method: "GET",
      headers: {},
      signal: AbortSignal.timeout(2_000),
    });
    expect(JSON.parse(await b.text())).toMatchObject({ code: 0 });
    expect(urls).toEqual([`${base}/v1/via-fetch`]);
  });

  it("uses the fetch it is given, every call", async () => {
    handler = (_req, res) => json(res, 200, envelope(0));
    let calls = 0;
    const request = fetchRequest(() => (u, i) => {
      calls++;
      return globalThis.fetch(u, i);
    });
    await (
      await request(`${base}/v1/a`, { method: "GET", headers: {}, signal: AbortSignal.timeout(2_000) })
    ).text();
    expect(calls).toBe(1);
  });
});
