import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken04 } from "../../protocol/token04.ts";
import type { Simulator } from "../../simulator/app.ts";
import { manualClock } from "../../simulator/clock.ts";
import { DEV_APP } from "../../simulator/options.ts";
import { testSimulator } from "../../test/sim.ts";
import { MemoryCache } from "../music/cache.ts";
import { ZegoCopyrightedMusic } from "../music/copyrighted-music.ts";
import { runPipeline } from "./run.ts";
import { userConfig } from "./test-fixtures.ts";
import { shouldRemint, TOKEN_EXPIRED } from "./token.ts";

// Token mode against a real simulator on loopback, on the real clock: the room warns 2 s before a 3 s token's
// expiry (the vendor's 30 s, scaled down), so a 4 s song outlives the first token and only renewal keeps the
// singer in the room. What must hold: the run succeeds, the renewals are reported as recoveries, and no
// expiry error reaches the user.

let sim: Simulator;
beforeAll(async () => {
  sim = await testSimulator({ media: { tokenWarnSeconds: 2, sweepIntervalMs: 50 } });
});
afterAll(async () => {
  await sim.close();
});

const LIFETIME_S = 3;
const mint = (user: string, seconds = LIFETIME_S, now?: number) =>
  mintToken04({
    appId: DEV_APP.app_id,
    userId: user,
    secret: DEV_APP.token_secret,
    effectiveSeconds: seconds,
    ...(now !== undefined ? { now } : {}),
  });
const expireOf = (token: string) => Number(Buffer.from(token.slice(2), "base64").readBigInt64BE(0));

function tokenConfig(user: string, o: { token: string; renew: boolean; seconds: number }) {
  let mints = 0;
  const config = {
    ...userConfig(sim.url, user, { seconds: o.seconds }),
    appSign: undefined,
    token: o.token,
    ...(o.renew
      ? {
          renewToken: async () => {
            mints++;
            return mint(user);
          },
        }
      : {}),
  };
  return { config, mints: () => mints };
}

describe("token04 login with expiry and renewal mid-session", () => {
  it("renews on onRoomTokenWillExpire before each expiry: the song outlives the first token, no user-visible error", async () => {
    const first = mint("renewer");
    const { config, mints } = tokenConfig("renewer", { token: first, renew: true, seconds: 4 });
    const r = await runPipeline(config);
    expect(r.failure).toBeNull();
    expect(r.ok).toBe(true);
    // The first token really expired during the run: without renewal the room would have kicked (1002056).
    expect(Date.now()).toBeGreaterThan(expireOf(first) * 1000);
    expect(r.publish).toMatchObject({ seconds: 4, reconnects: 0 });
    const renewals = r.recovery.filter((a) => a.rule === "token-renew");
    expect(renewals.length).toBeGreaterThanOrEqual(1);
    expect(renewals.length).toBe(mints());
    expect(renewals.every((a) => a.stage === "room" && /warned \d+ s before expiry/.test(a.detail))).toBe(
      true,
    );
    for (const code of ["1002056", "1002078", "1002033"]) expect(r.errors[code]).toBeUndefined();
  });

  it("without a way to renew, the same run is kicked when the token expires (the test's control)", async () => {
    const { config } = tokenConfig("stale", { token: mint("stale"), renew: false, seconds: 4 });
    const r = await runPipeline(config);
    expect(r).toMatchObject({ ok: false, failure: { stage: "publish", code: 1002056 } });
  });

  it("a cached token that already expired: 1002078 at login, re-minted once, the run goes on", async () => {
    const dead = mint("resumer", 60, Math.floor(Date.now() / 1000) - 120);
    const { config, mints } = tokenConfig("resumer", { token: dead, renew: true, seconds: 0.5 });
    const r = await runPipeline(config);
    expect(r.failure).toBeNull();
    expect(r.recovery.filter((a) => a.rule === "token-remint")).toMatchObject([
      { stage: "login", code: TOKEN_EXPIRED },
    ]);
    expect(mints()).toBeGreaterThanOrEqual(1);
    // Met and recovered: in the errors met, never the run's failure.
    expect(r.errors[String(TOKEN_EXPIRED)]).toBe(1);

    const { config: noRenew } = tokenConfig("resumer2", {
      token: mint("resumer2", 60, Math.floor(Date.now() / 1000) - 120),
      renew: false,
      seconds: 0.5,
    });
    expect(await runPipeline(noRenew)).toMatchObject({
      ok: false,
      failure: { stage: "login", code: TOKEN_EXPIRED },
    });
  });

  it("a vendor call refused with 1002078 is sent again once after onTokenExpired renewed the token", async () => {
    const past = Math.floor(Date.now() / 1000) - 120;
    let current = mint("vendor-user", 60, past);
    const calls: number[] = [];
    const music = (renew: () => string | null) =>
      new ZegoCopyrightedMusic({
        baseUrl: sim.url,
        appId: DEV_APP.app_id,
        token: () => current,
        cache: new MemoryCache(),
        onTokenExpired: async (code) => {
          calls.push(code);
          const t = renew();
          if (t === null) return false;
          current = t;
          return true;
        },
      });
    const ok = music(() => mint("vendor-user", 600));
    expect(await ok.initCopyrightedMusic({ user: { userID: "vendor-user" } })).toEqual({ errorCode: 0 });
    expect(calls).toEqual([TOKEN_EXPIRED]);

    // The app could not renew: the refusal reaches the caller.
    current = mint("vendor-user", 60, past);
    calls.length = 0;
    const refused = music(() => null);
    expect(await refused.initCopyrightedMusic({ user: { userID: "vendor-user" } })).toEqual({
      errorCode: TOKEN_EXPIRED,
    });
    expect(calls).toEqual([TOKEN_EXPIRED]);

    // The "fresh" token is dead too: retried once only, then reported.
    calls.length = 0;
    const dead = music(() => mint("vendor-user", 60, past));
    expect(await dead.initCopyrightedMusic({ user: { userID: "vendor-user" } })).toEqual({
      errorCode: TOKEN_EXPIRED,
    });
    expect(calls).toEqual([TOKEN_EXPIRED]);
  });

  it("in the pipeline: the token expires between login and the first vendor call; re-minted, renewed, sent again", async () => {
    // The simulator's clock jumps past the token's expiry right after the login, before the room's sweep can
    // warn or kick (it runs once a minute here): initCopyrightedMusic meets 1002078 first.
    const clock = manualClock(Date.now());
    const tsim = await testSimulator({ clock, media: { sweepIntervalMs: 60_000 } });
    try {
      const at = () => Math.floor(clock.now() / 1000);
      let mints = 0;
      const r = await runPipeline({
        ...userConfig(tsim.url, "late-user", { seconds: 0.3 }),
        appSign: undefined,
        token: mintToken04({
          appId: DEV_APP.app_id,
          userId: "late-user",
          secret: DEV_APP.token_secret,
          effectiveSeconds: 60,
          now: at(),
        }),
        renewToken: async () => {
          mints++;
          return mintToken04({
            appId: DEV_APP.app_id,
            userId: "late-user",
            secret: DEV_APP.token_secret,
            effectiveSeconds: 600,
            now: at(),
          });
        },
        onEvent: (e) => {
          if (e.type === "stage" && e.stage === "login") clock.advance(120_000);
        },
      });
      expect(r.failure).toBeNull();
      expect(mints).toBe(1);
      expect(r.recovery.filter((a) => a.rule.startsWith("token-"))).toMatchObject([
        { rule: "token-remint", stage: "vendor", code: TOKEN_EXPIRED },
      ]);
      expect(r.errors[String(TOKEN_EXPIRED)]).toBe(1);
    } finally {
      await tsim.close();
    }
  });

  it("shouldRemint: the expiry only, and only once", () => {
    expect(shouldRemint(TOKEN_EXPIRED, false)).toBe(true);
    expect(shouldRemint(TOKEN_EXPIRED, true)).toBe(false);
    for (const c of [0, 1002033, 1002077, 1002056]) expect(shouldRemint(c, false)).toBe(false);
  });
});
