import { describe, expect, it } from "vitest";
import { compare, parseExpression, parseMetricKey, parseThresholds } from "./parser.ts";

describe("threshold expressions (k6 grammar + windows)", () => {
  it.each([
    ["p(95)<800", { aggregation: { kind: "p", percentile: 95 }, operator: "<", value: 800, windowMs: null }],
    ["p(99.9)<5", { aggregation: { kind: "p", percentile: 99.9 }, operator: "<", value: 5, windowMs: null }],
    ["rate<0.01", { aggregation: { kind: "rate" }, operator: "<", value: 0.01, windowMs: null }],
    ["avg <= 200", { aggregation: { kind: "avg" }, operator: "<=", value: 200, windowMs: null }],
    ["count>0", { aggregation: { kind: "count" }, operator: ">", value: 0, windowMs: null }],
    ["med>=-1.5", { aggregation: { kind: "med" }, operator: ">=", value: -1.5, windowMs: null }],
    ["max===3", { aggregation: { kind: "max" }, operator: "===", value: 3, windowMs: null }],
    ["min!=0", { aggregation: { kind: "min" }, operator: "!=", value: 0, windowMs: null }],
    [
      "p(95)<800 over 30s",
      { aggregation: { kind: "p", percentile: 95 }, operator: "<", value: 800, windowMs: 30_000 },
    ],
    [
      "  rate < 0.05   over   1m30s ",
      { aggregation: { kind: "rate" }, operator: "<", value: 0.05, windowMs: 90_000 },
    ],
  ])("%j parses", (text, expected) => {
    expect(parseExpression(text)).toEqual(expected);
  });

  it.each([
    ["p95<800", /is not a threshold/],
    ["p(95)", /is not a threshold/],
    ["p(101)<1", /within 0\.\.100/],
    ["avg < fast", /is not a threshold/],
    ["avg => 3", /is not a threshold/],
    ["rate<0.01 over", /is not a threshold/],
    ["rate<0.01 over soon", /window "soon" is not a duration/],
    ["rate<0.01 over 0", /window must be longer than 0/],
    ["rate<0.01 during 30s", /is not a threshold/],
    ["", /is not a threshold/],
  ])("%j is refused", (text, why) => {
    const r = parseExpression(text);
    expect(r).toBeInstanceOf(Error);
    expect((r as Error).message).toMatch(why);
  });

  it("compares with each operator", () => {
    expect(compare(1, "<", 2) && compare(2, "<=", 2) && compare(3, ">", 2) && compare(2, ">=", 2)).toBe(true);
    expect(compare(2, "==", 2) && compare(2, "===", 2) && compare(1, "!=", 2)).toBe(true);
    expect(compare(2, "<", 2) || compare(2, "!=", 2) || compare(1, ">=", 2)).toBe(false);
  });
});

describe("metric keys", () => {
  it("takes a known metric with its tags, canonically ordered", () => {
    expect(parseMetricKey("errors{code:1017019}")).toEqual({
      name: "errors",
      tags: { code: "1017019" },
      key: "errors{code:1017019}",
    });
    expect(parseMetricKey("ttfa_ms{corrected:true}")).toMatchObject({ key: "ttfa_ms{corrected:true}" });
    expect(parseMetricKey("conformance{ rule : revoked-skip }")).toMatchObject({
      key: "conformance{rule:revoked-skip}",
    });
    // Vendor routes name extended commands by their path.
    expect(parseMetricKey("vendor_request_ms{route:/search/song}")).toMatchObject({
      key: "vendor_request_ms{route:/search/song}",
      tags: { route: "/search/song" },
    });
  });

  it("refuses unknown metrics, unknown tags and malformed filters", () => {
    expect(String(parseMetricKey("http_req_duration"))).toMatch(/not a metric of ktv/);
    expect(String(parseMetricKey("pick_to_audio_ms"))).toMatch(/was renamed pick_to_first_packet_ms/);
    expect(String(parseMetricKey("ttfa_ms{code:1}"))).toMatch(/ttfa_ms has no tag "code": it has corrected/);
    expect(String(parseMetricKey("iterations{role:singer}"))).toMatch(/has no tag "role": it has none/);
    expect(String(parseMetricKey("errors{code}"))).toMatch(/is not a tag filter/);
    expect(String(parseMetricKey("errors{code:1,}"))).toMatch(/is not a tag filter/);
    expect(String(parseMetricKey("ttfa_ms{corrected:false}"))).toMatch(/only takes true/);
  });
});

describe("a scenario's thresholds option", () => {
  it("takes strings and {threshold, abortOnFail, delayAbortEval}", () => {
    const { thresholds, errors } = parseThresholds({
      ttfa_ms: ["p(95)<800", { threshold: "p(99)<2000 over 30s", abortOnFail: true, delayAbortEval: "10s" }],
      "errors{code:1017019}": ["rate<0.01"],
    });
    expect(errors).toEqual([]);
    expect(
      thresholds.map((t) => [t.metric.key, t.source, t.abortOnFail, t.delayAbortEvalMs, t.windowMs]),
    ).toEqual([
      ["ttfa_ms", "p(95)<800", false, 0, null],
      ["ttfa_ms", "p(99)<2000 over 30s", true, 10_000, 30_000],
      ["errors{code:1017019}", "rate<0.01", false, 0, null],
    ]);
  });

  it("lists every problem, each with where it is", () => {
    const { errors } = parseThresholds({
      ttfa_ms: ["rate<1", "p(95)<"],
      errors: ["p(95)<1", { threshold: "rate<1", abortOnFail: "yes" }, { threshold: "rate<1", when: 1 }],
      iterations: ["avg<3"],
      nope: ["count>1"],
      bytes_downloaded: [],
    });
    expect(errors).toEqual([
      'options.thresholds["ttfa_ms"][0]: rate does not apply to ttfa_ms, a trend metric: use avg, min, max, med, p(N), count',
      'options.thresholds["ttfa_ms"][1]: "p(95)<" is not a threshold: expected <aggregation> <operator> <number> [over <duration>], e.g. "p(95)<800", "rate<0.01", "p(99)<500 over 30s"',
      'options.thresholds["errors"][0]: p(N) does not apply to errors, a rate metric: use rate',
      'options.thresholds["errors"][1]: abortOnFail: must be true or false',
      'options.thresholds["errors"][2]: unknown field when',
      'options.thresholds["iterations"][0]: avg does not apply to iterations, a counter metric: use count, rate',
      'options.thresholds["nope"]: "nope" is not a metric of ktv (see scenarios/metrics/catalog.ts)',
      'options.thresholds["bytes_downloaded"]: must be a non-empty list of thresholds',
    ]);
  });
});
