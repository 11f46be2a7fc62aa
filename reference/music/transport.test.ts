import { delay, HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { VENDOR_ROUTES, vendorRouteIndex } from "../../protocol/vendor-routes.ts";
import { ZegoError } from "../errors.ts";
import { APP_SIGN, BASE, envelope, instantRetry } from "./test-fixtures.ts";
import {
  ATTEMPT_ERROR,
  ATTEMPT_NO_ANSWER,
  ATTEMPT_OK,
  type AttemptOutcome,
  neverSent,
  observeVendorAttempts,
  VendorTransport,
} from "./transport.ts";

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

function transport(o: { retry?: ReturnType<typeof instantRetry>; timeoutMs?: number } = {}) {
  const r = o.retry ?? instantRetry();
  return new VendorTransport({
    baseUrl: BASE,
    appId: 1000000001,
    appSign: APP_SIGN,
    retry: r.policy,
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
  });
}

/** Answers from `answers` in order (the last one repeats) and counts the requests. */
function sequence(path: string, answers: (() => Response | Promise<Response>)[]) {
  const seen: Request[] = [];
  server.use(
    http.all(`${BASE}${path}`, async ({ request }) => {
      seen.push(request.clone());
      return answers[Math.min(seen.length - 1, answers.length - 1)]!();
    }),
  );
  return seen;
}

async function codeOfCall(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ZegoError) return e.code;
    throw e;
  }
  throw new Error("expected a ZegoError");
}

const ok = () => HttpResponse.json(envelope(0, { x: 1 }));

describe("answers that are not vendor envelopes", () => {
  it("malformed JSON is 1017010 and is not retried", async () => {
    const seen = sequence("/v1/x", [() => new HttpResponse('{"code":0,"data":', { status: 200 })]);
    const t = transport();
    expect(await codeOfCall(t.call({ method: "GET", path: "/v1/x", delivery: "idempotent" }))).toBe(1017010);
    expect(seen).toHaveLength(1);
  });

  it("JSON that is not an envelope is 1017010", async () => {
    sequence("/v1/x", [() => HttpResponse.json({ ok: true })]);
    expect(await codeOfCall(transport().call({ method: "GET", path: "/v1/x", delivery: "idempotent" }))).toBe(
      1017010,
    );
  });

  it("a vendor error envelope is returned as is, not retried", async () => {
    const seen = sequence("/v1/x", [() => HttpResponse.json(envelope(1017030))]);
    const a = await transport().call({ method: "GET", path: "/v1/x", delivery: "idempotent" });
    expect(a.envelope.code).toBe(1017030);
    expect(seen).toHaveLength(1);
  });
});

describe("transient failures", () => {
  it("429 with Retry-After waits exactly that long, then succeeds", async () => {
    const r = instantRetry();
    const seen = sequence("/v1/x", [
      () => HttpResponse.json(envelope(1017097), { status: 429, headers: { "retry-after": "2" } }),
      ok,
    ]);
    const a = await transport({ retry: r }).call({ method: "POST", path: "/v1/x", delivery: "idempotent" });
    expect(a.envelope.code).toBe(0);
    expect(seen).toHaveLength(2);
    expect(r.delays).toEqual([2000]);
  });

  it("a Retry-After beyond the policy's limit is not waited for: the 429 envelope is returned", async () => {
    const r = instantRetry();
    const seen = sequence("/v1/x", [
      () => HttpResponse.json(envelope(1017097), { status: 429, headers: { "retry-after": "3600" } }),
    ]);
    const a = await transport({ retry: r }).call({ method: "GET", path: "/v1/x", delivery: "idempotent" });
    expect(a.envelope.code).toBe(1017097);
    expect(seen).toHaveLength(1);
    expect(r.delays).toEqual([]);
  });

  it("5xx and 1017098 are retried with bounded full-jitter backoff, then the last envelope is returned", async () => {
    const r = instantRetry();
    const seen = sequence("/v1/x", [
      () => HttpResponse.json(envelope(1017099), { status: 503 }),
      () => HttpResponse.json(envelope(1017098)),
    ]);
    const a = await transport({ retry: r }).call({ method: "GET", path: "/v1/x", delivery: "idempotent" });
    expect(a.envelope.code).toBe(1017098);
    expect(seen).toHaveLength(4); // DEFAULT maxAttempts
    // random() = 0.5 of a ceiling of 100·2^n ms
    expect(r.delays).toEqual([50, 100, 200]);
  });

  it("jitter never exceeds the cap", async () => {
    const r = instantRetry({ random: () => 0.999, maxAttempts: 8, maxDelayMs: 300 });
    sequence("/v1/x", [() => HttpResponse.json(envelope(1017097))]);
    await transport({ retry: r }).call({ method: "GET", path: "/v1/x", delivery: "idempotent" });
    expect(r.delays).toHaveLength(7);
    expect(Math.max(...r.delays)).toBeLessThan(300);
    expect(r.delays.at(-1)).toBe(299);
  });

  it("a network error on an idempotent call is retried", async () => {
    const seen = sequence("/v1/x", [() => HttpResponse.error(), ok]);
    const a = await transport().call({ method: "GET", path: "/v1/x", delivery: "idempotent" });
    expect(a.envelope.code).toBe(0);
    expect(seen).toHaveLength(2);
  });

  it("every attempt has a timeout; exhausting them is 1017098", async () => {
    const seen = sequence("/v1/x", [
      async () => {
        await delay(2_000);
        return ok();
      },
    ]);
    const t = transport({ timeoutMs: 50, retry: instantRetry({ maxAttempts: 2 }) });
    const t0 = performance.now();
    expect(await codeOfCall(t.call({ method: "GET", path: "/v1/x", delivery: "idempotent" }))).toBe(1017098);
    expect(seen).toHaveLength(2);
    expect(performance.now() - t0).toBeLessThan(1_500);
  });

  it("the caller's abort ends the call at once with its reason, without retrying", async () => {
    const seen = sequence("/v1/x", [
      async () => {
        await delay(2_000);
        return ok();
      },
    ]);
    const ac = new AbortController();
    const p = transport().call({ method: "GET", path: "/v1/x", delivery: "idempotent", signal: ac.signal });
    setTimeout(() => ac.abort(new Error("user left")), 20);
    await expect(p).rejects.toThrow("user left");
    expect(seen).toHaveLength(1);
  });
});

describe('"once" delivery (billable requestResource, once-per-user getSharedResource)', () => {
  it("an attempt that got no answer is NOT retried: it may have billed", async () => {
    const seen = sequence("/v1/music/resource", [() => HttpResponse.error(), ok]);
    const t = transport();
    expect(await codeOfCall(t.call({ method: "POST", path: "/v1/music/resource", delivery: "once" }))).toBe(
      1017098,
    );
    expect(seen).toHaveLength(1);
  });

  it("a timed-out attempt is NOT retried", async () => {
    const seen = sequence("/v1/music/resource", [
      async () => {
        await delay(2_000);
        return ok();
      },
    ]);
    const t = transport({ timeoutMs: 50 });
    expect(await codeOfCall(t.call({ method: "POST", path: "/v1/music/resource", delivery: "once" }))).toBe(
      1017098,
    );
    expect(seen).toHaveLength(1);
  });

  it("a 5xx without an envelope is NOT retried (a proxy answered: the vendor may have billed)", async () => {
    const seen = sequence("/v1/music/resource", [
      () => new HttpResponse("<html>bad gateway</html>", { status: 502 }),
    ]);
    expect(
      await codeOfCall(transport().call({ method: "POST", path: "/v1/music/resource", delivery: "once" })),
    ).toBe(1017010);
    expect(seen).toHaveLength(1);
  });

  it("an error envelope (503, 429, 1017097) is retried: the vendor says nothing was billed", async () => {
    const seen = sequence("/v1/music/resource", [
      () => HttpResponse.json(envelope(1017098), { status: 503 }),
      () => HttpResponse.json(envelope(1017097), { status: 429, headers: { "retry-after": "1" } }),
      ok,
    ]);
    const a = await transport().call({ method: "POST", path: "/v1/music/resource", delivery: "once" });
    expect(a.envelope.code).toBe(0);
    expect(seen).toHaveLength(3);
  });
});

describe("credentials", () => {
  it("sends X-App-Id + X-App-Sign and X-Session", async () => {
    const seen = sequence("/v1/x", [ok]);
    await transport().call({ method: "GET", path: "/v1/x", delivery: "idempotent", session: "s-1" });
    const h = seen[0]!.headers;
    expect(h.get("x-app-id")).toBe("1000000001");
    expect(h.get("x-app-sign")).toBe(APP_SIGN);
    expect(h.get("x-session")).toBe("s-1");
    expect(h.get("authorization")).toBeNull();
  });

  it("a token provider is asked on every request (so it can renew) and sent as Bearer", async () => {
    const seen = sequence("/v1/x", [ok]);
    let n = 0;
    const t = new VendorTransport({ baseUrl: BASE, appId: 7, token: () => `tok-${++n}` });
    await t.call({ method: "GET", path: "/v1/x", delivery: "idempotent" });
    await t.call({ method: "GET", path: "/v1/x", delivery: "idempotent" });
    expect(seen.map((r) => r.headers.get("authorization"))).toEqual(["Bearer tok-1", "Bearer tok-2"]);
    expect(seen[0]!.headers.get("x-app-sign")).toBeNull();
  });

  it("rejects a base URL that is not http(s)", () => {
    expect(() => new VendorTransport({ baseUrl: "file:///etc", appId: 1, appSign: APP_SIGN })).toThrow(
      /http/,
    );
  });
});

describe("neverSent", () => {
  it("is true only for connect-phase failures, through causes and aggregate errors", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    expect(neverSent(new TypeError("fetch failed", { cause: refused }))).toBe(true);
    expect(neverSent(new TypeError("fetch failed", { cause: new AggregateError([refused]) }))).toBe(true);
    expect(neverSent({ cause: { code: "UND_ERR_CONNECT_TIMEOUT" } })).toBe(true);
    const reset = Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" });
    expect(neverSent(new TypeError("fetch failed", { cause: reset }))).toBe(false);
    expect(neverSent(new DOMException("timeout", "TimeoutError"))).toBe(false);
    expect(neverSent(undefined)).toBe(false);
  });
});

describe("the thread's vendor-attempt observer", () => {
  afterEach(() => observeVendorAttempts(null));

  it("hears every attempt, retries included, by route and outcome", async () => {
    const heard: [number, AttemptOutcome][] = [];
    observeVendorAttempts((route, outcome, ms) => {
      expect(ms).toBeGreaterThanOrEqual(0);
      heard.push([route, outcome]);
    });
    sequence("/v1/music/extended", [
      () => HttpResponse.json(envelope(1017097), { status: 200 }),
      () => HttpResponse.error(),
      ok,
    ]);
    const t = transport();
    await t.call({
      method: "POST",
      path: "/v1/music/extended",
      body: { command: "/search/song", params: {} },
      delivery: "idempotent",
    });
    const search = vendorRouteIndex("/v1/music/extended", "/search/song");
    expect(heard).toEqual([
      [search, ATTEMPT_ERROR],
      [search, ATTEMPT_NO_ANSWER],
      [search, ATTEMPT_OK],
    ]);
    sequence("/v1/music/resource", [() => HttpResponse.json(envelope(1017030))]);
    await t.call({ method: "POST", path: "/v1/music/resource", body: {}, delivery: "once" });
    expect(heard.at(-1)).toEqual([vendorRouteIndex("/v1/music/resource", undefined), ATTEMPT_ERROR]);
    expect(VENDOR_ROUTES[heard.at(-1)![0]]).toBe("requestResource");
  });

  it("hears nothing once removed", async () => {
    let n = 0;
    observeVendorAttempts(() => n++);
    observeVendorAttempts(null);
    sequence("/v1/music/init", [ok]);
    await transport().call({ method: "POST", path: "/v1/music/init", body: {}, delivery: "idempotent" });
    expect(n).toBe(0);
  });
});
