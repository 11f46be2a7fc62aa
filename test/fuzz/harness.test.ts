import { afterEach, describe, expect, it } from "vitest";
import { answerProblem, CI_TOTAL, casesFor, heapGrowthProblem, SHARE, totalCases } from "./harness.ts";

// The fuzzers' judges: what counts as an answer in the vendor's form, the heap bound, and the case budget.

const json = { "content-type": "application/json; charset=utf-8" };
const env = JSON.stringify({ code: 1017040, message: "illegal parameter", request_id: "r1", data: null });

describe("answerProblem", () => {
  it("accepts the envelope, the server API envelope on `/`, documented non-JSON bodies and bodiless HEADs", () => {
    expect(answerProblem({ status: 400, headers: json, text: env })).toBeNull();
    const api = JSON.stringify({ Code: 320000004, Message: "x", RequestId: "r", Data: null });
    expect(answerProblem({ status: 200, headers: json, text: api }, { serverApi: true })).toBeNull();
    expect(answerProblem({ status: 200, headers: { "content-type": "audio/wav" }, text: "RIFF" })).toBeNull();
    expect(answerProblem({ status: 200, headers: json, text: "" }, { method: "HEAD" })).toBeNull();
  });

  it("flags a 5xx, a non-envelope JSON body, a bare empty answer and an unknown content type", () => {
    expect(answerProblem({ status: 500, headers: json, text: env })).toBe("status 500");
    expect(
      answerProblem({ status: 400, headers: json, text: '{"statusCode":400,"error":"Bad Request"}' }),
    ).toMatch(/^not an envelope/);
    const api = JSON.stringify({ Code: 0, Message: "x", RequestId: "r", Data: null });
    expect(answerProblem({ status: 200, headers: json, text: api }, { serverApi: true })).toMatch(
      /^not an envelope/,
    );
    expect(answerProblem({ status: 400, headers: {}, text: "" })).toMatch(/^unexpected content-type ""/);
    expect(
      answerProblem({ status: 200, headers: { "content-type": "application/xml" }, text: "<a/>" }),
    ).toMatch(/^unexpected content-type/);
  });
});

describe("heapGrowthProblem", () => {
  it("allows the fixed part plus the per-case part, and names the growth past it", () => {
    const bound = { fixed: 4e6, perCase: 100 };
    expect(heapGrowthProblem(50e6, 54e6 + 100 * 1000, 1000, bound)).toBeNull();
    expect(heapGrowthProblem(50e6, 54e6 + 100 * 1000 + 1, 1000, bound)).toMatch(
      /^heap after GC grew 4\.10 MB over 1000 cases \(bound 4\.10 MB/,
    );
  });
});

describe("case budget", () => {
  const saved = process.env.KTV_FUZZ_RUNS;
  afterEach(() => {
    if (saved === undefined) delete process.env.KTV_FUZZ_RUNS;
    else process.env.KTV_FUZZ_RUNS = saved;
  });

  it("splits 10^4 in CI and KTV_FUZZ_RUNS in the long form, in whole batches", () => {
    delete process.env.KTV_FUZZ_RUNS;
    expect(totalCases()).toBe(CI_TOTAL);
    expect(Object.values(SHARE).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(casesFor("routes", 25) % 25).toBe(0);
    process.env.KTV_FUZZ_RUNS = "100000";
    expect(casesFor("routes", 25)).toBe(42_000);
    process.env.KTV_FUZZ_RUNS = "lots";
    expect(() => totalCases()).toThrow(/KTV_FUZZ_RUNS must be an integer >= 100, got "lots"/);
  });
});
