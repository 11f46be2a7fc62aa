import { describe, expect, it } from "vitest";
import type { PipelineResult } from "../../reference/pipeline/result.ts";
import { pipelineResult } from "../../reference/pipeline/test-fixtures.ts";
import { judge } from "./conformance.ts";
import { CONFORMANCE_CASES } from "./conformance-cases.ts";

// The conformance verdict: each expectation is checked and named when it fails.

const caseOf = (rule: string) => CONFORMANCE_CASES.find((c) => c.rule === rule)!;

function result(over: Partial<PipelineResult>): PipelineResult {
  return pipelineResult({
    stages: {
      login_ms: 1,
      init_ms: 1,
      search_ms: 1,
      request_ms: 1,
      download_ms: 1,
      load_ms: 1,
      ttfa_ms: 1,
      pick_to_first_packet_ms: null,
      first_heard_ms: null,
    },
    billable_requests: 1,
    bytes_downloaded: 1,
    elapsed_ms: 1,
    ...over,
  });
}

const action = (rule: "expired-rerequest" | "transient-backoff", stage = "download") =>
  ({ rule, stage, code: 1017019, detail: "", at_ms: 1 }) as const;

describe("conformance verdicts", () => {
  it("passes a client that recovered as the rule says, billed as the ledger says", () => {
    const v = judge(
      caseOf("expired-rerequest"),
      result({ billable_requests: 2, recovery: [action("expired-rerequest")] }),
      2,
    );
    expect(v).toMatchObject({ rule: "expired-rerequest", ok: true, problems: [] });
  });

  it("names every broken expectation", () => {
    const v = judge(
      caseOf("expired-rerequest"),
      result({ ok: false, failure: { stage: "download", code: 1017019, message: "" }, billable_requests: 1 }),
      3,
    );
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual([
      "outcome: expected success, got failure 1017019 at download",
      "recovery: expected expired-rerequest, got none",
      "ledger rows: expected 2, got 3",
      "billable requests: the client reported 1, the ledger has 3",
    ]);
  });

  it("a client that silently repeats a dropped requestResource fails no-blind-rebill", () => {
    const retried = result({ ok: true, billable_requests: 1, unconfirmed_requests: 0 });
    const v = judge(caseOf("no-blind-rebill"), retried, 1);
    expect(v.problems).toEqual([
      "outcome: expected a reported failure, got success",
      "ledger rows: expected 0, got 1",
      "unconfirmed requests: expected 1, got 0",
    ]);
  });

  it("the recovery must be at the expected stage", () => {
    const atSearch = result({ recovery: [action("transient-backoff", "search")] });
    expect(judge(caseOf("download-resume"), atSearch, 1).problems).toEqual([
      "recovery: expected transient-backoff at download, got transient-backoff@search",
    ]);
  });

  it("a pause must hold the position and be resumed; a seek must land on its target", () => {
    const player = {
      pauses: 1,
      resumes: 1,
      seeks: 0,
      paused_frames: 50,
      seek_targets_ms: [],
      seek_errors: 0,
      drops: 0,
      paused_at_ms: 700,
      resume_at_ms: 700,
      seek_landed_ms: [],
    };
    expect(judge(caseOf("player-pause"), result({ player }), 1).problems).toEqual([]);
    const muted = { ...player, resumes: 0, paused_frames: 0, resume_at_ms: 1_200 };
    expect(judge(caseOf("player-pause"), result({ player: muted }), 1).problems).toEqual([
      "resumes: expected 1, got 0",
      "paused frames: expected 50, got 0",
      "position while paused: moved from 700 to 1200 ms (a pause must hold it)",
    ]);
    const seek = {
      ...player,
      pauses: 0,
      resumes: 0,
      seeks: 1,
      seek_targets_ms: [1_000],
      seek_landed_ms: [1_000],
    };
    expect(judge(caseOf("player-seek"), result({ player: seek }), 1).problems).toEqual([]);
    const ignored = { ...seek, seek_landed_ms: [1_530] };
    expect(judge(caseOf("player-seek"), result({ player: ignored }), 1).problems).toEqual([
      "seek 1: asked for 1000 ms, the player showed 1530 ms",
    ]);
    expect(judge(caseOf("player-seek"), result({}), 1).problems).toEqual([
      "player: the client reported no player actions (PipelineResult.player)",
    ]);
  });

  it("a refusal no retry can change is met once: a retried 1017076 fails scene-not-enabled", () => {
    const refused = (n: number) =>
      result({
        ok: false,
        failure: { stage: "request", code: 1017076, message: "" },
        billable_requests: 0,
        errors: { "1017076": n },
      });
    expect(judge(caseOf("scene-not-enabled"), refused(1), 0).problems).toEqual([]);
    expect(judge(caseOf("scene-not-enabled"), refused(4), 0).problems).toEqual([
      "code 1017076: expected it met 1 time(s), got 4",
    ]);
  });
});
