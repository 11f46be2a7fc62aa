import { describe, expect, it } from "vitest";
import { emptyStages } from "../pipeline/result.ts";
import { pipelineResult } from "../pipeline/test-fixtures.ts";
import { failureLine, singJson, summary } from "./report.ts";

const RESULT = pipelineResult({
  ok: false,
  failure: { stage: "login", code: 1002030, message: "room login failed" },
  stages: { ...emptyStages(), login_ms: 3.04 },
  elapsed_ms: 10,
});

describe("ktv sing report", () => {
  it("one line per failure that says what to check", () => {
    const at = (stage: string, code: number, message = "m") =>
      failureLine({ ...RESULT, failure: { stage, code, message } }, "http://h:1");
    expect(at("login", 1002030)).toMatch(
      /^cannot reach the simulator at http:\/\/h:1: .* \(1002030\); is `ktv sim` running there\?$/,
    );
    expect(at("login", 1001005)).toBe("the app credentials were refused: app sign wrong (1001005)");
    expect(at("login", 1002033)).toBe(
      "room login failed: authentication failed: token wrong or expired (1002033)",
    );
    expect(at("search", 1017034, 'no song for "x" can be used as an accompaniment')).toBe(
      'no song for "x" can be used as an accompaniment (1017034)',
    );
    expect(at("download", 1017019, "download of z failed")).toBe(
      "download failed: download of z failed: copyrighted resource expired, request it again (1017019)",
    );
    expect(failureLine({ ...RESULT, failure: null, aborted: true }, "x")).toBe("interrupted");
    expect(at("login", 1002030).includes("\n")).toBe(false);
  });

  it("--json flattens the stage timings (ttfa_ms among them) into one object", () => {
    const j = singJson({ ...RESULT, stages: { ...RESULT.stages, ttfa_ms: 123.456 } }, null);
    expect(j).toMatchObject({
      ok: false,
      login_ms: 3,
      ttfa_ms: 123.5,
      search_ms: null,
      failure: RESULT.failure,
    });
    expect(JSON.parse(JSON.stringify(j))).toEqual(j);
    expect(summary(RESULT, null)).toContain("time to first audio -");
  });
});
