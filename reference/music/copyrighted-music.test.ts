import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ZegoCopyrightedMusic } from "./copyrighted-music.ts";
import { APP_SIGN, BASE, envelope, instantRetry, tempDir } from "./test-fixtures.ts";

// The module's SDK surface against msw: local checks, error-code mapping, malformed vendor answers, and the
// rule that a billable request is never blindly repeated.

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

let cache: ReturnType<typeof tempDir>;
beforeEach(() => {
  cache = tempDir();
  return () => cache.remove();
});

const requests: Request[] = [];
beforeEach(() => {
  requests.length = 0;
  server.events.removeAllListeners();
  server.events.on("request:start", ({ request }) => {
    requests.push(request.clone());
  });
});
const paths = () => requests.map((r) => new URL(r.url).pathname);

function initOk() {
  server.use(
    http.post(`${BASE}/v1/music/init`, () =>
      HttpResponse.json(envelope(0, { session: "s-1", user_id: "u1" })),
    ),
  );
}

const RESOURCE = {
  is_accompany: 1,
  has_original: 1,
  song_id: "100",
  duration: 5000,
  krc_token: "krc-1",
  resources_size: 1,
  resources: [{ resource_id: "z_100_1_a", size: 1044, quality: "hq", resource_ttl: 60_000 }],
};

function module(over: { appSign?: string; token?: () => string } = {}) {
  return new ZegoCopyrightedMusic({
    baseUrl: BASE,
    appId: 1000000001,
    ...(over.token ? { token: over.token } : { appSign: over.appSign ?? APP_SIGN }),
    cacheDir: cache.dir,
    retry: instantRetry().policy,
  });
}

async function ready() {
  initOk();
  const cm = module();
  expect(await cm.initCopyrightedMusic({ user: { userID: "u1", userName: "Alice" } })).toEqual({
    errorCode: 0,
  });
  return cm;
}

describe("initCopyrightedMusic", () => {
  it("1017009 without an app sign or token, and no request is made", async () => {
    const cm = module({ appSign: "" });
    expect(await cm.initCopyrightedMusic({ user: { userID: "u1" } })).toEqual({ errorCode: 1017009 });
    expect(requests).toHaveLength(0);
  });

  it("sends the user and keeps the session for later calls", async () => {
    const cm = await ready();
    expect(await requests[0]!.json()).toEqual({ user_id: "u1", user_name: "Alice" });
    expect(cm.userID).toBe("u1");
    server.use(http.post(`${BASE}/v1/music/extended`, () => HttpResponse.json(envelope(0, { songs: [] }))));
    await cm.sendExtendedRequest("/top/song", '{"top_id":"8888","page":1}');
    expect(requests[1]!.headers.get("x-session")).toBe("s-1");
  });

  it("passes the vendor's auth verdict through (401 1001005)", async () => {
    server.use(
      http.post(`${BASE}/v1/music/init`, () => HttpResponse.json(envelope(1001005), { status: 401 })),
    );
    expect(await module().initCopyrightedMusic({ user: { userID: "u1" } })).toEqual({ errorCode: 1001005 });
  });

  it("an answer without a session string is 1017010", async () => {
    server.use(http.post(`${BASE}/v1/music/init`, () => HttpResponse.json(envelope(0, { session: 42 }))));
    expect(await module().initCopyrightedMusic({ user: { userID: "u1" } })).toEqual({ errorCode: 1017010 });
  });

  it("with a token provider sends Bearer tokens", async () => {
    initOk();
    const cm = module({ token: () => "04token" });
    expect(await cm.initCopyrightedMusic({ user: { userID: "u1" } })).toEqual({ errorCode: 0 });
    expect(requests[0]!.headers.get("authorization")).toBe("Bearer 04token");
  });

  it("every call before init is 1017096, without a request", async () => {
    const cm = module();
    expect((await cm.sendExtendedRequest("/tag/list", "{}")).errorCode).toBe(1017096);
    expect((await cm.requestResource({ songID: "1", mode: 0, vendorID: 0, resourceType: 0 })).errorCode).toBe(
      1017096,
    );
    expect((await cm.getSharedResource({ songID: "1", roomID: "r", resourceType: 0 })).errorCode).toBe(
      1017096,
    );
    expect(await cm.download("z_1")).toEqual({ errorCode: 1017096 });
    expect((await cm.getLrcLyric("1", 0)).errorCode).toBe(1017096);
    expect((await cm.getKrcLyricByToken("k")).errorCode).toBe(1017096);
    expect((await cm.getStandardPitch("z_1")).errorCode).toBe(1017096);
    expect(cm.resolvePlayable("z_1")).toEqual({ errorCode: 1017096 });
    expect(requests).toHaveLength(0);
  });
});

describe("sendExtendedRequest", () => {
  it("1017000 / 1017001 for an empty command / params, locally", async () => {
    const cm = await ready();
    expect(await cm.sendExtendedRequest("", "{}")).toEqual({ errorCode: 1017000, command: "", result: "" });
    expect(await cm.sendExtendedRequest("/tag/list", "")).toEqual({
      errorCode: 1017001,
      command: "/tag/list",
      result: "",
    });
    expect(paths()).toEqual(["/v1/music/init"]);
  });

  it("forwards params as the SDK's JSON string and returns the vendor's answer text verbatim", async () => {
    const cm = await ready();
    const text = JSON.stringify({ ...envelope(0, {}), prelude_end_time: 1234 });
    server.use(http.post(`${BASE}/v1/music/extended`, () => new HttpResponse(text, { status: 200 })));
    const r = await cm.sendExtendedRequest("/api/get_prelude_end_time", '{"resource_id":"z"}');
    expect(r).toEqual({ errorCode: 0, command: "/api/get_prelude_end_time", result: text });
    expect(await requests[1]!.json()).toEqual({
      command: "/api/get_prelude_end_time",
      params: '{"resource_id":"z"}',
    });
  });

  it("a vendor error code is the errorCode, with the envelope in result", async () => {
    const cm = await ready();
    server.use(http.post(`${BASE}/v1/music/extended`, () => HttpResponse.json(envelope(1017077))));
    const r = await cm.sendExtendedRequest("/top/song", '{"top_id":"1"}');
    expect(r.errorCode).toBe(1017077);
    expect(JSON.parse(r.result).code).toBe(1017077);
  });

  it("malformed vendor JSON is 1017010 with an empty result", async () => {
    const cm = await ready();
    server.use(
      http.post(`${BASE}/v1/music/extended`, () => new HttpResponse('{"code":0,"data":{"songs":[', {})),
    );
    expect(await cm.sendExtendedRequest("/search/song", '{"keyword":"a"}')).toEqual({
      errorCode: 1017010,
      command: "/search/song",
      result: "",
    });
  });
});

describe("requestResource / getSharedResource", () => {
  it("sends the V2 config as the wire body and registers the resource for this session", async () => {
    const cm = await ready();
    server.use(http.post(`${BASE}/v1/music/resource`, () => HttpResponse.json(envelope(0, RESOURCE))));
    const r = await cm.requestResource({
      songID: "100",
      mode: 2,
      vendorID: 1,
      roomID: "r1",
      resourceType: 1,
      resourceQualityType: 1,
      sceneID: 0,
    });
    expect(r.errorCode).toBe(0);
    expect(JSON.parse(r.resource).data).toEqual(RESOURCE);
    expect(r.data).toEqual(RESOURCE);
    expect(await requests[1]!.json()).toEqual({
      song_id: "100",
      resource_type: 1,
      billing_mode: 2,
      vendor_id: 1,
      room_id: "r1",
      quality: 1,
      scene_id: 0,
    });
    expect(cm.resourceInfo("z_100_1_a")).toMatchObject({
      songID: "100",
      vendorID: 1,
      resourceType: 1,
      quality: 1,
      qualityName: "hq",
      size: 1044,
      hasOriginal: 1,
      krcToken: "krc-1",
      shared: false,
    });
  });

  it("1017002 for an empty songID, locally", async () => {
    const cm = await ready();
    expect(await cm.requestResource({ songID: "", mode: 0, vendorID: 0, resourceType: 0 })).toEqual({
      errorCode: 1017002,
      resource: "",
    });
    expect(await cm.getSharedResource({ songID: "", roomID: "r", resourceType: 0 })).toEqual({
      errorCode: 1017002,
      resource: "",
    });
    expect(paths()).toEqual(["/v1/music/init"]);
  });

  it("a malformed resource answer is 1017010 and registers nothing", async () => {
    const cm = await ready();
    const broken = { ...RESOURCE, resources: [{ resource_id: "z_100_1_a", size: "big", quality: "hq" }] };
    server.use(http.post(`${BASE}/v1/music/resource`, () => HttpResponse.json(envelope(0, broken))));
    const r = await cm.requestResource({ songID: "100", mode: 0, vendorID: 0, resourceType: 1 });
    expect(r.errorCode).toBe(1017010);
    expect(cm.resourceInfo("z_100_1_a")).toBeUndefined();
    expect(await cm.download("z_100_1_a")).toEqual({ errorCode: 1017018 });
  });

  it("a lost answer is NOT retried (one billable attempt) and reports 1017098", async () => {
    const cm = await ready();
    server.use(http.post(`${BASE}/v1/music/resource`, () => HttpResponse.error()));
    const r = await cm.requestResource({ songID: "100", mode: 0, vendorID: 0, resourceType: 1 });
    expect(r).toEqual({ errorCode: 1017098, resource: "" });
    expect(paths().filter((p) => p === "/v1/music/resource")).toHaveLength(1);
  });

  it("a vendor error envelope (system busy) is retried: nothing was billed", async () => {
    const cm = await ready();
    let n = 0;
    server.use(
      http.post(`${BASE}/v1/music/resource`, () =>
        ++n === 1
          ? HttpResponse.json(envelope(1017097), { status: 503 })
          : HttpResponse.json(envelope(0, RESOURCE)),
      ),
    );
    const r = await cm.requestResource({ songID: "100", mode: 0, vendorID: 0, resourceType: 1 });
    expect(r.errorCode).toBe(0);
    expect(n).toBe(2);
  });

  it("getSharedResource: a lost answer is not retried either (the retry would get 1017051)", async () => {
    const cm = await ready();
    server.use(http.post(`${BASE}/v1/music/shared-resource`, () => HttpResponse.error()));
    expect((await cm.getSharedResource({ songID: "100", roomID: "r1", resourceType: 1 })).errorCode).toBe(
      1017098,
    );
    expect(paths().filter((p) => p === "/v1/music/shared-resource")).toHaveLength(1);
  });

  it("getSharedResource sends vendor 0 by default and marks the resource shared", async () => {
    const cm = await ready();
    server.use(http.post(`${BASE}/v1/music/shared-resource`, () => HttpResponse.json(envelope(0, RESOURCE))));
    const r = await cm.getSharedResource({ songID: "100", roomID: "r1", resourceType: 1 });
    expect(r.errorCode).toBe(0);
    expect(await requests[1]!.json()).toEqual({
      song_id: "100",
      resource_type: 1,
      vendor_id: 0,
      room_id: "r1",
    });
    expect(cm.resourceInfo("z_100_1_a")?.shared).toBe(true);
  });

  it("vendor verdicts (1017050, 1017030) come back as the errorCode", async () => {
    const cm = await ready();
    server.use(
      http.post(`${BASE}/v1/music/shared-resource`, () => HttpResponse.json(envelope(1017050))),
      http.post(`${BASE}/v1/music/resource`, () => HttpResponse.json(envelope(1017030))),
    );
    expect((await cm.getSharedResource({ songID: "1", roomID: "r1", resourceType: 1 })).errorCode).toBe(
      1017050,
    );
    const r = await cm.requestResource({ songID: "1", mode: 0, vendorID: 0, resourceType: 1 });
    expect(r.errorCode).toBe(1017030);
    expect(JSON.parse(r.resource).code).toBe(1017030);
  });
});

describe("resource ids live only for the session", () => {
  it("destroy and re-init forget them: 1017018 afterwards", async () => {
    const cm = await ready();
    server.use(http.post(`${BASE}/v1/music/resource`, () => HttpResponse.json(envelope(0, RESOURCE))));
    await cm.requestResource({ songID: "100", mode: 0, vendorID: 0, resourceType: 1 });
    expect(cm.resourceInfo("z_100_1_a")).toBeDefined();
    await cm.destroy();
    expect(await cm.download("z_100_1_a")).toEqual({ errorCode: 1017096 });
    expect(await cm.initCopyrightedMusic({ user: { userID: "u1" } })).toEqual({ errorCode: 0 });
    expect(await cm.download("z_100_1_a")).toEqual({ errorCode: 1017018 });
    expect((await cm.getStandardPitch("z_100_1_a")).errorCode).toBe(1017018);
    expect(cm.resolvePlayable("z_100_1_a")).toEqual({ errorCode: 1017018 });
  });

  it("download and player lookups check ids locally: 1017004 empty, 1017018 unknown", async () => {
    const cm = await ready();
    expect(await cm.download("")).toEqual({ errorCode: 1017004 });
    expect(await cm.download("z_never_issued")).toEqual({ errorCode: 1017018 });
    expect(cm.resolvePlayable("")).toEqual({ errorCode: 1017004 });
    expect(await cm.getDuration("z_never_issued")).toBe(0);
    expect(paths()).toEqual(["/v1/music/init"]);
  });
});

describe("lyrics and pitch", () => {
  it("return the vendor's data as JSON strings", async () => {
    const cm = await ready();
    const lrc = {
      lyrics: "[ti:x]",
      lrc_format: "[ti:x]",
      lines: [{ begin_time: 0, end_time: 10, content: "la" }],
    };
    const krc = { lyrics: "k", krc_format: "k", krc_format_offset: 0, lines: [] };
    const pitch = { pitch: [{ begin_time: 0, duration: 100, value: 60 }] };
    server.use(
      http.get(`${BASE}/v1/music/lyrics/lrc`, () => HttpResponse.json(envelope(0, lrc))),
      http.get(`${BASE}/v1/music/lyrics/krc`, () => HttpResponse.json(envelope(0, krc))),
      http.get(`${BASE}/v1/music/pitch`, () => HttpResponse.json(envelope(0, pitch))),
      http.post(`${BASE}/v1/music/resource`, () => HttpResponse.json(envelope(0, RESOURCE))),
    );
    expect(await cm.getLrcLyric("100", 1)).toEqual({ errorCode: 0, lyrics: JSON.stringify(lrc) });
    expect(new URL(requests.at(-1)!.url).search).toBe("?song_id=100&vendor_id=1");
    expect(await cm.getKrcLyricByToken("krc/1+=")).toEqual({ errorCode: 0, lyrics: JSON.stringify(krc) });
    expect(new URL(requests.at(-1)!.url).searchParams.get("krc_token")).toBe("krc/1+=");
    await cm.requestResource({ songID: "100", mode: 0, vendorID: 0, resourceType: 1 });
    expect(await cm.getStandardPitch("z_100_1_a")).toEqual({ errorCode: 0, pitch: JSON.stringify(pitch) });
  });

  it("local checks: 1017002, 1017008, 1017004; vendor errors pass through", async () => {
    const cm = await ready();
    expect(await cm.getLrcLyric("", 0)).toEqual({ errorCode: 1017002, lyrics: "" });
    expect(await cm.getKrcLyricByToken("")).toEqual({ errorCode: 1017008, lyrics: "" });
    expect(await cm.getStandardPitch("")).toEqual({ errorCode: 1017004, pitch: "" });
    server.use(http.get(`${BASE}/v1/music/lyrics/krc`, () => HttpResponse.json(envelope(1017047))));
    expect(await cm.getKrcLyricByToken("old")).toEqual({ errorCode: 1017047, lyrics: "" });
  });
});
