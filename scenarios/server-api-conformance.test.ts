import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServerApiEnvelope, serverApiSignature } from "../protocol/server-api.ts";
import { ServerApiClient } from "../reference/server-api/client.ts";
import type { Simulator } from "../simulator/app.ts";
import { DEV_APP } from "../simulator/options.ts";
import { testSimulator } from "../test/sim.ts";
import {
  CONFORMANCE_QPS_APP,
  runServerApiConformance,
  SERVER_API_CASES,
  type ServerApiCallerFactory,
} from "./server-api-conformance.ts";

// The server-API conformance cases against the real simulator: the reference client passes every one, and
// clients that break a rule fail exactly the cases of that rule (so a case cannot pass whatever the client).

let sim: Simulator;
beforeAll(async () => {
  sim = await testSimulator({ apps: [DEV_APP, CONFORMANCE_QPS_APP] });
});
afterAll(() => sim.close());

const app = { appId: DEV_APP.app_id, serverSecret: DEV_APP.token_secret };

const reference: ServerApiCallerFactory = (o) => {
  const c = new ServerApiClient({ ...o, now: () => Date.now() + o.clockSkewMs });
  return { call: async (action, params) => (await c.attempt(action, params)).envelope };
};

/** Signs and sends once: no retry, no skew correction. */
const naive: ServerApiCallerFactory = (o) => ({
  call: async (action, params = {}) => {
    const ts = Math.floor((Date.now() + o.clockSkewMs) / 1000);
    const q = new URLSearchParams({
      Action: action,
      AppId: String(o.appId),
      SignatureNonce: "n",
      Timestamp: String(ts),
      Signature: serverApiSignature(o.appId, "n", o.serverSecret, ts),
      UserId: o.userId,
    });
    for (const [k, v] of Object.entries(params)) q.append(k, String(v));
    return (await (await fetch(`${o.baseUrl}/?${q}`)).json()) as ServerApiEnvelope;
  },
});

/** Retries every failure a few times, signature errors included. */
const eager: ServerApiCallerFactory = (o) => {
  const c = new ServerApiClient({ ...o, now: () => Date.now() + o.clockSkewMs });
  return {
    call: async (action, params) => {
      let e: ServerApiEnvelope | null = null;
      for (let i = 0; i < 3; i++) {
        e = (await c.attempt(action, params)).envelope;
        if (e?.Code === 0) break;
      }
      return e;
    },
  };
};

describe("server API conformance", () => {
  it("the reference client passes every case", { timeout: 60_000 }, async () => {
    const v = await runServerApiConformance({ target: sim.url, app, factory: reference });
    expect(v.map((x) => x.rule)).toEqual(SERVER_API_CASES.map((c) => c.rule));
    for (const x of v) expect(x.ok, `${x.rule}: ${x.problems.join("; ")}`).toBe(true);
  });

  it("a client without retries or skew correction fails those rules, and only those", {
    timeout: 60_000,
  }, async () => {
    const v = await runServerApiConformance({ target: sim.url, app, factory: naive });
    const failed = v.filter((x) => !x.ok).map((x) => x.rule);
    expect(failed.sort()).toEqual(["clock-skew", "retry-busy", "retry-rate-limit"]);
  });

  it("a client that retries everything fails the no-retry rules", { timeout: 60_000 }, async () => {
    const v = await runServerApiConformance({ target: sim.url, app, factory: eager });
    const failed = v.filter((x) => !x.ok).map((x) => x.rule);
    expect(failed.sort()).toEqual(["no-retry-invalid-id", "no-retry-signature"]);
  });
});
