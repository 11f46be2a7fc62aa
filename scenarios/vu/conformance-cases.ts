import type { PlayerActionOptions } from "../../reference/pipeline/player-actions.ts";
import type { RecoveryRule } from "../../reference/pipeline/recovery.ts";
import type { TokenAuth } from "./token-auth.ts";

// The conformance cases: each recovery rule of the careful client (reference/pipeline/recovery.ts; issue 5,
// item 6) provoked once by a fault that hits only the case's own user (count_scope "user", first: 1), and
// what a conforming client must show for it: its own report (recovery actions, billable requests) and the
// vendor's ledger agree, and the outcome is the rule's. A partner's client passes when it behaves the same.

// Beside the recovery rules, rules of the vendor's contract a client must keep: never repeat a request that may
// have billed; a scene the app has not enabled is the user's clear error (never silently billed as another
// scene); the media player's pause holds the position and its seek lands where asked (spec §6).
export type ConformanceRule =
  | RecoveryRule
  | "no-blind-rebill"
  | "scene-not-enabled"
  | "player-pause"
  | "player-seek";

export interface ConformanceCase {
  /** Also the tag of conformance{rule:...}; one case per rule name. */
  rule: ConformanceRule | "download-resume";
  /** What the case checks, for the report and the log. */
  description: string;
  profile: unknown | null;
  /** Try the room's share first (the room is fresh, so nothing is shared). */
  preferShared?: boolean;
  /** Revoke the song as soon as its resource is issued (and restore it after the case). */
  revokeOnResource?: boolean;
  /** Pick by a search whose first two hits are both usable (a revoked first hit must leave a next song). */
  needsTwoCandidates?: boolean;
  /** Log in by token04 with this first token (the app's secret mints it and every renewal). */
  auth?: TokenAuth;
  /** SceneID sent with requestResource (the conformance app enables only the vendor's default, 0). */
  sceneID?: number;
  /** Fetch and follow lyrics. */
  lyrics?: "krc" | "lrc";
  /** Player actions handed to the client (PipelineConfig.player), and the seconds it publishes (default 0.5). */
  player?: PlayerActionOptions;
  seconds?: number;
  expect: {
    ok: boolean;
    /** A recovery action of this rule (stage too, when given) must be reported. */
    recovery: RecoveryRule | null;
    recoveryStage?: string;
    /** Ledger rows the case adds, which must also be the client's own count of billable requests. */
    ledgerRows: number;
    /** When not ok: the failure codes that are acceptable. */
    failureCodes?: number[];
    /** Requests the client must report as unconfirmed (sent, no answer: may have billed). */
    unconfirmed?: number;
    /** Songs the client must report as skipped. */
    skipped?: number;
    /** Times each listed code may be met (e.g. 1: a refusal that no retry can change is not retried). */
    codeCounts?: Record<number, number>;
    /**
     * Pause / seek as the client's player showed them (PipelineResult.player): each planned pause done and
     * resumed, the position standing still while paused, for `pauseMs`; each seek answered 0 and landed on
     * its target.
     */
    player?: { pauses?: number; seeks?: number };
  };
}

const once = { first: 1, count_scope: "user" } as const;

export const CONFORMANCE_CASES: ConformanceCase[] = [
  {
    rule: "transient-backoff",
    description:
      "1017097 (system busy) on the first content-center call: retried with backoff, then the song plays",
    profile: {
      faults: [
        {
          id: "busy-once",
          kind: "error",
          code: 1017097,
          selector: { route: "POST /v1/music/extended" },
          ...once,
        },
      ],
    },
    expect: { ok: true, recovery: "transient-backoff", ledgerRows: 1 },
  },
  {
    rule: "download-resume",
    description:
      "the download connection is reset after 64 KiB: resumed (Range), not restarted or re-requested",
    profile: {
      faults: [
        {
          id: "reset-once",
          kind: "cdn",
          reset_after_bytes: 65_536,
          selector: { route: "GET /v1/music/download/:resource_id" },
          ...once,
        },
      ],
    },
    expect: { ok: true, recovery: "transient-backoff", recoveryStage: "download", ledgerRows: 1 },
  },
  {
    rule: "expired-rerequest",
    description:
      "the first download finds its resource expired (410 + 1017019): requested again once, then plays",
    profile: { faults: [{ id: "expired-once", kind: "expiry", expire_on_use: true, ...once }] },
    expect: { ok: true, recovery: "expired-rerequest", ledgerRows: 2 },
  },
  {
    rule: "revoked-skip",
    description:
      "the song is revoked while it downloads (cut, 403 + 1017030): skipped for the next song, reason kept",
    profile: {
      faults: [
        {
          id: "stall-once",
          kind: "cdn",
          stall: { after_bytes: 4096, duration: { type: "fixed", ms: 3000 } },
          selector: { route: "GET /v1/music/download/:resource_id" },
          ...once,
        },
      ],
    },
    revokeOnResource: true,
    needsTwoCandidates: true,
    expect: { ok: true, recovery: "revoked-skip", ledgerRows: 2, skipped: 1 },
  },
  {
    rule: "shared-fallback",
    description: "getSharedResource in a room where nobody requested the song (1017050): requests it instead",
    profile: null,
    preferShared: true,
    expect: { ok: true, recovery: "shared-fallback", ledgerRows: 1 },
  },
  {
    rule: "vendor-unavailable",
    description:
      "the content center is down (outage: every search answers 1017098): backed off, then a clear 1017098 failure, nothing billed",
    profile: {
      faults: [
        {
          id: "search-outage",
          kind: "outage",
          selector: { route: "POST /v1/music/extended" },
        },
      ],
    },
    expect: {
      ok: false,
      recovery: "vendor-unavailable",
      recoveryStage: "search",
      ledgerRows: 0,
      failureCodes: [1017098],
    },
  },
  {
    rule: "media-reconnect",
    description:
      "the media server closes the client's connection half a second into its publish (disconnect fault, close 1012): it reconnects, publishes on and reports the reconnect",
    profile: {
      faults: [{ id: "disconnect-once", kind: "disconnect", after_frames: 25, ...once }],
    },
    seconds: 2,
    expect: { ok: true, recovery: "media-reconnect", recoveryStage: "publish", ledgerRows: 1 },
  },
  {
    rule: "no-blind-rebill",
    description:
      "requestResource's connection is dropped unanswered: reported (1017098), never repeated automatically (it may have billed)",
    profile: {
      faults: [
        {
          id: "drop-once",
          kind: "error",
          drop: true,
          selector: { route: "POST /v1/music/resource" },
          ...once,
        },
      ],
    },
    expect: { ok: false, recovery: null, ledgerRows: 0, failureCodes: [1017098, 1017010], unconfirmed: 1 },
  },
  {
    rule: "token-renew",
    description:
      "token04 login with 30 s left, inside the vendor's warning: onRoomTokenWillExpire is answered with a fresh token (renewToken) before the expiry",
    profile: null,
    auth: { ttlSeconds: 600, first: "expiring" },
    expect: { ok: true, recovery: "token-renew", recoveryStage: "room", ledgerRows: 1 },
  },
  {
    rule: "token-remint",
    description:
      "token04 login with a cached token that expired a minute ago (1002078): a fresh one is minted and the login retried once",
    profile: null,
    auth: { ttlSeconds: 600, first: "expired" },
    expect: { ok: true, recovery: "token-remint", recoveryStage: "login", ledgerRows: 1 },
  },
  {
    rule: "lyrics-fallback",
    description:
      "the KRC answers 1017047 (krc_token expired): the song's LRC is shown instead and the song plays",
    profile: {
      faults: [
        {
          id: "krc-expired-once",
          kind: "error",
          code: 1017047,
          selector: { route: "GET /v1/music/lyrics/krc" },
          ...once,
        },
      ],
    },
    lyrics: "krc",
    expect: { ok: true, recovery: "lyrics-fallback", recoveryStage: "lyrics", ledgerRows: 1 },
  },
  {
    rule: "scene-not-enabled",
    description:
      "requestResource with scene 2 (live-room KTV), which the app has not enabled (1017076): a clear failure, not retried, nothing billed (never billed as another scene)",
    profile: null,
    sceneID: 2,
    expect: {
      ok: false,
      recovery: null,
      ledgerRows: 0,
      failureCodes: [1017076],
      codeCounts: { 1017076: 1 },
    },
  },
  {
    rule: "player-pause",
    description:
      "the user pauses for 0.5 s while singing (player.pauseProb 1): the player's position stands still while paused, then it resumes and plays on",
    profile: null,
    player: { pauseProb: 1, pauseMs: 500 },
    seconds: 2,
    expect: { ok: true, recovery: null, ledgerRows: 1, player: { pauses: 1 } },
  },
  {
    rule: "player-seek",
    description:
      "the user seeks back to a whole second while singing (player.seekProb 1): seekTo answers 0 and the player's position lands on the target",
    profile: null,
    player: { seekProb: 1 },
    seconds: 2,
    expect: { ok: true, recovery: null, ledgerRows: 1, player: { seeks: 1 } },
  },
];
