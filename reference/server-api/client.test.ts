import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { serverApiSignature } from "../../protocol/server-api.ts";
import { ServerApiCallError, ServerApiClient, type ServerApiClientOptions } from "./client.ts";

// The client's own rules against a scripted loopback server (a mock, as client unit tests may use): what it
// signs, when it retries and how long it waits, when it must not retry, and how it corrects clock skew.
// The same client against the real simulator: scenarios/server-api.test.ts.

const SECRET = "0123456789abcdef0123456789abcdef";
type Answer = { status?: number; body: unknown; date?: string };
let script: ((q: URLSearchParams) => Answer)[] = [];
let seen: URLSearchParams[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const q = new URL(req.url ?? "/", "http://x").searchParams;
    seen.push(q);
    const next =
      script.shift() ?? (() => ({ body: { Code: 0, Message: "succeed", RequestId: "r", Data: {} } }));
    const a: Answer = next(q);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (a.date) headers.date = a.date;
    res.writeHead(a.status ?? 200, headers);
    res.end(typeof a.body === "string" ? a.body : JSON.stringify(a.body));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  script = [];
  seen = [];
});

const env = (Code: number, Data: unknown = null) => ({
  body: { Code, Message: `m${Code}`, RequestId: "rq", Data },
});

function client(o: Partial<ServerApiClientOptions> = {}) {
  const waits: number[] = [];
  const c = new ServerApiClient({
    baseUrl: base,
    appId: 1000000001,
    serverSecret: SECRET,
    userId: "backend",
    now: () => 1_765_000_000_000,
    sleep: async (ms) => {
      waits.push(ms);
    },
    random: () => 0.5,
    ...o,
  });
  return { c, waits };
}

describe("ServerApiClient", () => {
  it("signs every attempt with a fresh nonce, lists as Name[]=, common params in the query", async () => {
    script = [() => env(320000002), () => env(0, { Tips: ["a"] })];
    const { c } = client({ vendorId: 1, roomId: "r1" });
    expect(await c.call("QueryTips", { Keyword: "lo", Filter: [1, 3] })).toEqual({ Tips: ["a"] });
    expect(seen).toHaveLength(2);
    const [a, b] = seen as [URLSearchParams, URLSearchParams];
    expect(a.get("SignatureNonce")).not.toBe(b.get("SignatureNonce"));
    for (const q of seen) {
      const want = serverApiSignature(
        1000000001,
        q.get("SignatureNonce")!,
        SECRET,
        Number(q.get("Timestamp")),
      );
      expect(q.get("Signature")).toBe(want);
      expect(q.get("Timestamp")).toBe("1765000000");
      expect(q.get("SignatureVersion")).toBe("2.0");
      expect(q.get("UserId")).toBe("backend");
      expect(q.get("RoomId")).toBe("r1");
      expect(q.get("VendorId")).toBe("1");
      expect(q.getAll("Filter[]")).toEqual(["1", "3"]);
    }
  });

  it("retries 320000002 and 320050002 with capped exponential backoff and equal jitter, then gives up", async () => {
    script = Array.from({ length: 6 }, (_, i) => () => env(i % 2 ? 320050002 : 320000002));
    const { c, waits } = client({ maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 500, random: () => 0.5 });
    const r = await c.attempt("DescribeTags");
    expect(r.envelope?.Code).toBe(320050002);
    expect(r.attempts).toBe(6);
    expect(seen).toHaveLength(6);
    // Three quarters (half fixed + random 0.5 of the other half) of min(500, 100 * 2^(n-1)).
    expect(waits).toEqual([75, 150, 300, 375, 375]);
    expect(r.backoffMs).toBe(1275);
    script = [() => env(320000002), () => env(320000002), () => env(0, {})];
    await expect(client({ maxAttempts: 2 }).c.call("DescribeTags")).rejects.toMatchObject({
      code: 320000002,
      attempts: 2,
    });
  });

  it("jitter spans the upper half of the window: random 0 waits half the cap, random ~1 nearly all of it", () => {
    expect(client({ random: () => 0, baseDelayMs: 100 }).c.backoff(3)).toBe(200);
    expect(client({ random: () => 0.999, baseDelayMs: 100, maxDelayMs: 2000 }).c.backoff(3)).toBe(399);
    expect(client({ random: () => 0.999, baseDelayMs: 100, maxDelayMs: 2000 }).c.backoff(30)).toBe(1999);
  });

  it("the default retries always outwait a whole second, the vendor's QPS window, even with no luck", () => {
    const { c } = client({ random: () => 0 });
    const waited = [1, 2, 3, 4].reduce((a, n) => a + c.backoff(n), 0);
    expect(waited).toBe(1875);
  });

  it("never retries a signature error, an illegal param or an invalid id", async () => {
    for (const code of [100000005, 320000004, 320040004, 320050000]) {
      script = [() => env(code)];
      seen = [];
      const { c, waits } = client();
      const e = await c.call("DescribeTags").catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ServerApiCallError);
      expect((e as ServerApiCallError).code).toBe(code);
      expect(seen, String(code)).toHaveLength(1);
      expect(waits).toEqual([]);
    }
  });

  it("on 100000004 learns the server's clock from Date, re-signs once and keeps the offset", async () => {
    const serverNow = 1_765_000_000_000 + 3_600_000;
    const inWindow = (q: URLSearchParams) => Math.abs(Number(q.get("Timestamp")) - serverNow / 1000) <= 600;
    const judge = (q: URLSearchParams) => ({
      ...env(inWindow(q) ? 0 : 100000004, {}),
      date: new Date(serverNow).toUTCString(),
    });
    script = [judge, judge, judge];
    const { c, waits } = client();
    const r = await c.attempt("DescribeTags");
    expect(r.envelope?.Code).toBe(0);
    expect(r.attempts).toBe(2);
    expect(waits).toEqual([]);
    expect(c.clockOffsetMs).toBe(3_600_000);
    // The next call starts on the server's clock.
    expect((await c.attempt("DescribeTags")).attempts).toBe(1);
  });

  it("a second 100000004, or one without a Date header, is reported, not retried", async () => {
    const expired = () => ({
      ...env(100000004),
      date: new Date(1_765_000_000_000 + 3_600_000).toUTCString(),
    });
    script = [expired, expired, expired];
    const r = await client().c.attempt("DescribeTags");
    expect(r.envelope?.Code).toBe(100000004);
    expect(r.attempts).toBe(2);
  });

  it("retries a 5xx that is not the API's envelope and a connection that fails; not a 4xx page", async () => {
    script = [() => ({ status: 502, body: "<html>bad gateway</html>" }), () => env(0, {})];
    expect((await client().c.attempt("DescribeTags")).attempts).toBe(2);
    script = [() => ({ status: 404, body: "not found" })];
    const r = await client().c.attempt("DescribeTags");
    expect(r).toMatchObject({ attempts: 1, status: 404, envelope: null });
    expect(r.transportError).toContain("not the API's envelope");
    const dead = await client({ baseUrl: "http://127.0.0.1:1", maxAttempts: 3 }).c.attempt("DescribeTags");
    expect(dead).toMatchObject({ attempts: 3, status: 0, envelope: null });
  });

  it("refuses bad credentials before any request", () => {
    expect(() => client({ serverSecret: "short" })).toThrow(/32/);
    expect(() => client({ appId: 0 })).toThrow(/uint32/);
    expect(() => client({ userId: "" })).toThrow(/userId/);
  });
});
